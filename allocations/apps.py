from django.apps import AppConfig


class AllocationsConfig(AppConfig):
    name = "allocations"
    verbose_name = "Resources and allocations"

    def ready(self) -> None:
        # PRODUCT §8: a PI with an overdue final report may not start a proposal; proposals
        # asks through its hook (proposals.calls.hooks), never through our tables.
        from allocations.rules import overdue_final_reports_message
        from proposals.calls.hooks import start_check_register

        start_check_register(overdue_final_reports_message)

        # PRODUCT §9: the home page lists awards to accept and final reports due, which
        # proposals cannot read (proposals.home.hooks).
        from allocations.selectors.waiting import waiting_in_allocations
        from proposals.home.hooks import waiting_source_register

        waiting_source_register(waiting_in_allocations)
