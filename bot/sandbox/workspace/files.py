"""Files in the fake workspace, as Slack's external upload keeps them: a file id reserved
with a single-use upload ticket, then the bytes received (``bot.sandbox.web_api.uploads``
serves the three steps).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bot.sandbox.workspace.models import JSON, ApiError


@dataclass
class SandboxFile:
    id: str
    filename: str
    length: int
    alt_txt: str | None
    ticket: str
    content: bytes | None = None
    title: str | None = None
    completed: bool = False
    shares: list[str] = field(default_factory=list)  # channel ids

    @property
    def mimetype(self) -> str:
        name = self.filename.lower()
        if name.endswith(".png"):
            return "image/png"
        if name.endswith(".svg"):
            return "image/svg+xml"
        if name.endswith((".txt", ".csv", ".md")):
            return "text/plain"
        return "application/octet-stream"

    def to_api(self, public_url: str) -> JSON:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": self.mimetype,
            "size": self.length,
            "alt_txt": self.alt_txt,
            "url_private": f"{public_url}/files/{self.id}",
            "permalink": f"{public_url}/files/{self.id}",
            "channels": list(self.shares),
        }


class FileStore:
    def __init__(self) -> None:
        self.files: dict[str, SandboxFile] = {}
        self._tickets: dict[str, str] = {}

    def reserve(self, filename: str, length: int, alt_txt: str | None) -> SandboxFile:
        ticket = secrets.token_urlsafe(16)
        found = SandboxFile(
            id="F" + secrets.token_hex(5).upper(),
            filename=filename,
            length=length,
            alt_txt=alt_txt,
            ticket=ticket,
        )
        self.files[found.id] = found
        self._tickets[ticket] = found.id
        return found

    def receive(self, ticket: str, body: bytes) -> SandboxFile:
        """Step 2. Raises ApiError (HTTP 404/400) for an unknown or used ticket or a body of
        the wrong length."""
        file_id = self._tickets.pop(ticket, None)
        if file_id is None:
            raise ApiError("invalid_upload_url", status=404)
        found = self.files[file_id]
        if len(body) != found.length:
            raise ApiError(
                "length_mismatch",
                status=400,
                messages=[f"declared length {found.length}, received {len(body)} bytes"],
            )
        found.content = body
        return found
