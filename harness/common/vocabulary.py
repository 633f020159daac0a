"""The words every stage shares: the two roles a sample plays."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a sample is in a run: the server, or the client that talks to it. A Role is its
    name (`Role.SERVER == "server"`), so manifests, run records and reports keep plain
    text."""

    SERVER = "server"
    CLIENT = "client"


# the roles in the order every table lists them (the server first); plain names, as files
# and YAML hold them
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
