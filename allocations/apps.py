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
