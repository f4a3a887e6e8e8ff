from proposals.models.calls import Call, CallCriterion, CallQuerySet, CallResource, CallRole

__all__ = ["Call", "CallCriterion", "CallQuerySet", "CallResource", "CallRole"]
