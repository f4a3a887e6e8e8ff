"""What the apps above accounts add to its pages, registered once at start-up.

The profile page shows, below the profile form, a section from each app that registered one
(``profile_section_register``): a function of the request returning the section's HTML. The
API app registers its tokens (PRODUCT §9); accounts never imports it. With nothing
registered the profile is the form alone.
"""

from collections.abc import Callable

from django.http import HttpRequest

ProfileSection = Callable[[HttpRequest], str]

profile_sections: list[ProfileSection] = []


def profile_section_register(section: ProfileSection) -> None:
    if section not in profile_sections:
        profile_sections.append(section)
