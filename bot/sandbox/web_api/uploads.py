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

from typing import Any

from bot.sandbox.web_api.args import Args
from bot.sandbox.workspace.files import SandboxFile
from bot.sandbox.workspace.models import JSON, ApiError
from bot.sandbox.workspace.world import SlackWorld

MAX_LENGTH = 1024 * 1024 * 1024  # Slack's limit: 1 GB
MAX_FILES = 10


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
