"""What Slack does with a message sent to a response_url (or a slash command's reply body)."""

from __future__ import annotations

from bot.sandbox.web_api.limits import check_message
from bot.sandbox.workspace.blocks import assign_ids
from bot.sandbox.workspace.models import JSON, ApiError
from bot.sandbox.workspace.world import SlackWorld


def apply_response(world: SlackWorld, token: str, payload: JSON) -> None:
    """Apply one response_url message: delete or replace the original, or post a new one.

    As Slack: `delete_original` removes the message the interaction came from,
    `replace_original` edits it, otherwise the message is new and ephemeral (only the user who
    acted sees it) unless `response_type` is "in_channel".
    """
    target = world.response_urls.use(token)
    original = target.message_ts
    if payload.get("delete_original") in (True, "true") and original is not None:
        if target.is_ephemeral:
            world.ephemerals = [
                e for e in world.ephemerals if (e.channel, e.ts) != (target.channel, original)
            ]
            world.touch()
        else:
            world.delete_message(target.channel, original)
        return
    text, attachments = payload.get("text"), payload.get("attachments")
    try:
        check_message(text=text, blocks=payload.get("blocks"), attachments=attachments)
    except ApiError as error:
        raise ApiError(error.error, status=400, messages=error.messages) from None
    blocks = assign_ids(payload.get("blocks"))
    text_str = str(text) if text is not None else None
    if payload.get("replace_original") in (True, "true") and original is not None:
        if target.is_ephemeral:
            ephemeral = world.find_ephemeral(target.channel, original)
            if ephemeral is None:
                raise ApiError("message_not_found", status=404)
            ephemeral.text, ephemeral.blocks = text_str or "", list(blocks or [])
            world.touch()
        else:
            world.update_message(
                target.channel,
                original,
                text=text_str,
                blocks=blocks or [],
                attachments=attachments,
            )
        return
    show_reply(world, channel=target.channel, user=target.user, payload=payload)


def show_reply(world: SlackWorld, *, channel: str, user: str, payload: JSON) -> str:
    """Post a reply as Slack shows it: in the channel or only to `user`; returns its ts."""
    text = str(payload.get("text") or "")
    blocks = assign_ids(payload.get("blocks") or [])
    thread_ts = payload.get("thread_ts")
    if payload.get("response_type") == "in_channel":
        message = world.post_message(
            channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            attachments=payload.get("attachments"),
        )
        return message.ts
    ephemeral = world.post_ephemeral(
        channel, user, text=text, blocks=blocks, thread_ts=thread_ts, source="response_url"
    )
    return ephemeral.ts
