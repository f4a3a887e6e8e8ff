"""Reads of cluster login names (PRODUCT §8): an allocation's members and their logins on the
allocation's clusters."""

from dataclasses import dataclass

from allocations.models import Allocation, AllocationMember, ClusterLogin


@dataclass(frozen=True)
class LoginRow:
    member: AllocationMember
    cluster: str
    login: ClusterLogin | None


def allocation_clusters(*, allocation: Allocation) -> list[str]:
    """The Slurm clusters the allocation's resources are on."""
    return sorted(
        set(
            allocation.resources.exclude(resource__slurm_cluster="").values_list(
                "resource__slurm_cluster", flat=True
            )
        )
    )


def allocation_logins(*, allocation: Allocation, clusters: list[str]) -> list[LoginRow]:
    """Each current member on each of ``clusters``, with their login there or None: two
    queries, whatever the number of members."""
    members = list(
        allocation.members.filter(removed_at__isnull=True)
        .select_related("user")
        .order_by("added_at", "pk")
    )
    logins = {
        (row.user_id, row.cluster): row
        for row in ClusterLogin.objects.filter(
            user_id__in=[m.user_id for m in members], cluster__in=clusters
        )
    }
    return [
        LoginRow(member, cluster, logins.get((member.user_id, cluster)))
        for member in members
        for cluster in clusters
    ]
