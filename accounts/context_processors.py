from accounts.rules import is_call_manager


def roles(request) -> dict:
    user = getattr(request, "user", None)
    return {"is_call_manager": bool(user and is_call_manager(user))}
