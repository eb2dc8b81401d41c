"""What the app was launched with, passed to every tab builder."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipelines.common import StudioError

from .access import PasswordGate, client_key, current_request


@dataclass(frozen=True)
class StudioSettings:
    """Launch options of one studio process (from the CLI or a Space's environment)."""

    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    root_path: str = ""
    admin_password: str | None = None
    on_space: bool = False          # running as a Hugging Face Space: public, uploads capped
    max_upload_mb: int = 200
    listen_only: str | None = None  # a listening-test id: serve that test and nothing else
    # the password check of this process (failures per client live here, not in a module global)
    gate: PasswordGate = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.gate is None:
            object.__setattr__(self, "gate", PasswordGate(self.admin_password))

    def require_admin(self, password: object, request: object | None = None) -> None:
        """Return when no admin password is configured or ``password`` matches it; raise
        ``AccessRefused`` (a StudioError) otherwise, slowing down a client that keeps guessing."""
        request = request if request is not None else current_request()
        self.gate.check(password, client_key(request, behind_proxy=self.on_space))

    def refused_lately(self, request: object | None = None) -> bool:
        """True while this client's last admin password was wrong (see PasswordGate.refused_lately)."""
        request = request if request is not None else current_request()
        return self.gate.refused_lately(client_key(request, behind_proxy=self.on_space))

    def check_admin(self, password: object, request: object | None = None) -> bool:
        """True when no admin password is configured or ``password`` matches it (see require_admin)."""
        try:
            self.require_admin(password, request)
        except StudioError:
            return False
        return True


def space_environment() -> dict[str, str]:
    """The variables a Hugging Face Space sets that the studio honours."""
    keys = ("SPACE_ID", "SYSTEM", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "GRADIO_ROOT_PATH",
            "STUDIO_ADMIN_PASSWORD")
    return {k: os.environ[k] for k in keys if k in os.environ}
