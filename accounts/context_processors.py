from accounts.rules import has_manager_role, is_call_manager


def roles(request) -> dict:
    """The menu's manager entries: for a manager whose session has not passed the second
    factor, one entry that leads to confirming it (accounts.decorators.manager_required)."""
    user = getattr(request, "user", None)
    manager = bool(user and is_call_manager(user))
    return {
        "is_call_manager": manager,
        "manager_must_confirm": bool(user and not manager and has_manager_role(user)),
    }
