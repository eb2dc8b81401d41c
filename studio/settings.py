"""What the app was launched with, passed to every tab builder."""
from __future__ import annotations

import os
from dataclasses import dataclass


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

    def check_admin(self, password: str | None) -> bool:
        """True when no admin password is configured or ``password`` matches it."""
        return not self.admin_password or password == self.admin_password


def space_environment() -> dict[str, str]:
    """The variables a Hugging Face Space sets that the studio honours."""
    keys = ("SPACE_ID", "SYSTEM", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "GRADIO_ROOT_PATH",
            "STUDIO_ADMIN_PASSWORD")
    return {k: os.environ[k] for k in keys if k in os.environ}
