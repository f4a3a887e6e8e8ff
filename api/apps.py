from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # The profile page (accounts) shows the tokens section through its hook; accounts
        # never imports api.
        from accounts.hooks import profile_section_register
        from api.views import tokens_section

        profile_section_register(tokens_section)
