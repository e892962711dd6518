"""Slack's external file upload, as the fake serves it (the three steps of ``files_upload_v2``):

1. ``files.getUploadURLExternal`` (``filename``, ``length``) reserves a file id and answers an
   ``upload_url`` on the sandbox (``/upload/v1/<ticket>``), as Slack answers one on
   files.slack.com;
2. the client POSTs the bytes there: the ticket is single-use, and the body must be exactly
   ``length`` bytes (Slack answers anything else with an error);
3. ``files.completeUploadExternal`` (``files`` as JSON ``[{"id", "title"}]``, optional
   ``channel_id``, ``initial_comment``, ``thread_ts``) finishes uploaded files only, once each,
   and shares them: a message in the channel carrying the files.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.sandbox.models import JSON, ApiError

if TYPE_CHECKING:
    from bot.sandbox.api_methods import Args
    from bot.sandbox.world import SlackWorld

MAX_LENGTH = 1024 * 1024 * 1024  # Slack's limit: 1 GB
MAX_FILES = 10


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


def get_upload_url(world: SlackWorld, args: Args) -> JSON:
    filename = args.req("filename")
    length = args.integer("length", 0)
    if not 0 < length <= MAX_LENGTH:
        raise ApiError("invalid_arguments", messages=["length must be between 1 and 1 GB"])
    found = world.files.reserve(filename, length, args.opt("alt_txt"))
    return {"upload_url": f"{world.public_url}/upload/v1/{found.ticket}", "file_id": found.id}


def complete_upload(world: SlackWorld, args: Args) -> JSON:
    items: Any = args.json("files")
    if not isinstance(items, list) or not items or len(items) > MAX_FILES:
        raise ApiError("invalid_arguments", messages=["files must be a list of 1 to 10 files"])
    chosen: list[SandboxFile] = []
    for item in items:
        file_id = item.get("id") if isinstance(item, dict) else None
        found = world.files.files.get(str(file_id))
        if found is None:
            raise ApiError("file_not_found")
        if found.content is None:
            raise ApiError("file_upload_not_complete", messages=[f"{found.id} was not uploaded"])
        if found.completed:
            raise ApiError("file_already_completed", messages=[f"{found.id}"])
        chosen.append(found)
    channel_id = args.opt("channel_id")
    channel = world.channel_by_id(channel_id) if channel_id else None
    for found, item in zip(chosen, items, strict=True):
        found.completed = True
        found.title = str(item.get("title") or found.filename)
    if channel is not None:
        for found in chosen:
            found.shares.append(channel.id)
        message = world.post_message(
            channel.id,
            text=args.opt("initial_comment") or "",
            thread_ts=args.opt("thread_ts"),
            files=[f.to_api(world.public_url) for f in chosen],
        )
        world.record_write(channel.id, "files.completeUploadExternal", message.ts)
    return {"files": [f.to_api(world.public_url) for f in chosen]}
