"""The Web API methods the fake serves: each returns an `ok` answer's body or raises ApiError."""

from __future__ import annotations

from collections.abc import Callable

from bot.sandbox.web_api.args import Args
from bot.sandbox.web_api.limits import check_message, check_view
from bot.sandbox.web_api.uploads import complete_upload, get_upload_url
from bot.sandbox.workspace.blocks import assign_ids
from bot.sandbox.workspace.models import JSON, ApiError, Message
from bot.sandbox.workspace.world import SlackWorld

RATE_LIMITED_METHODS = ("chat.postMessage", "chat.update")
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # called with the app-level token


def _message(world: SlackWorld, message: Message, *, with_metadata: bool = False) -> JSON:
    return message.to_api(team_id=world.team_id, app_id=world.app_id, with_metadata=with_metadata)


def _metadata(args: Args) -> JSON | None:
    """chat.postMessage's `metadata`: `{"event_type": str, "event_payload": object}`."""
    metadata = args.json("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ApiError("invalid_metadata_format", messages=["metadata must be an object"])
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 255:
        raise ApiError("invalid_metadata_schema", messages=["metadata.event_type is required"])
    if not isinstance(payload, dict):
        raise ApiError("invalid_metadata_schema", messages=["metadata.event_payload: object"])
    return {"event_type": event_type, "event_payload": payload}


def _take_write_slot(world: SlackWorld, channel_id: str) -> None:
    wait = world.limiter.try_acquire(channel_id)
    if wait is not None:
        raise ApiError("ratelimited", status=429, retry_after=wait)


def auth_test(world: SlackWorld, args: Args) -> JSON:
    bot = world.users[world.bot_user_id]
    return {
        "url": f"https://{world.team_domain}.slack.com/",
        "team": world.team_domain,
        "user": bot.name,
        "team_id": world.team_id,
        "user_id": bot.id,
        "bot_id": world.bot_id,
        "is_enterprise_install": False,
    }


def apps_connections_open(world: SlackWorld, args: Args) -> JSON:
    """A Socket Mode WebSocket URL for one connection (the token was checked by the caller)."""
    return {"url": world.socket_mode.open_url()}


def chat_post_message(world: SlackWorld, args: Args) -> JSON:
    channel = world.resolve_for_post(args.req("channel", error="channel_not_found"))
    text, blocks, attachments = args.opt("text"), args.json("blocks"), args.json("attachments")
    check_message(text=text, blocks=blocks, attachments=attachments)
    metadata = _metadata(args)
    _take_write_slot(world, channel.id)
    message = world.post_message(
        channel.id,
        text=text or "",
        blocks=assign_ids(blocks),
        thread_ts=args.opt("thread_ts"),
        attachments=attachments,
        metadata=metadata,
    )
    world.record_write(channel.id, "chat.postMessage", message.ts)
    posted = _message(world, message, with_metadata=True)
    return {"channel": channel.id, "ts": message.ts, "message": posted}


def chat_update(world: SlackWorld, args: Args) -> JSON:
    channel = world.channel_by_id(args.req("channel", error="channel_not_found"))
    message = world.message(channel.id, args.req("ts", error="message_not_found"))
    if message.bot_id != world.bot_id:
        raise ApiError("cant_update_message")
    text, blocks, attachments = args.opt("text"), args.json("blocks"), args.json("attachments")
    check_message(text=text, blocks=blocks, attachments=attachments)
    _take_write_slot(world, channel.id)
    world.update_message(channel.id, message.ts, text=text, blocks=blocks, attachments=attachments)
    world.record_write(channel.id, "chat.update", message.ts)
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": _message(world, message),
    }


def chat_post_ephemeral(world: SlackWorld, args: Args) -> JSON:
    channel = world.resolve_for_post(args.req("channel", error="channel_not_found"))
    user = args.req("user", error="user_not_found")
    if user not in world.users:
        raise ApiError("user_not_found")
    text, blocks = args.opt("text"), args.json("blocks")
    check_message(text=text, blocks=blocks, attachments=args.json("attachments"))
    ephemeral = world.post_ephemeral(
        channel.id,
        user,
        text=text or "",
        blocks=assign_ids(blocks),
        thread_ts=args.opt("thread_ts"),
    )
    return {"message_ts": ephemeral.ts}


def chat_get_permalink(world: SlackWorld, args: Args) -> JSON:
    channel = world.channel_by_id(args.req("channel", error="channel_not_found"))
    message = world.message(channel.id, args.req("message_ts", error="message_not_found"))
    return {"channel": channel.id, "permalink": f"{world.public_url}/#{channel.id}/{message.ts}"}


def conversations_open(world: SlackWorld, args: Args) -> JSON:
    if args.opt("channel") is not None:
        channel = world.channel_by_id(args.req("channel"))
    else:
        users = [u for u in args.req("users", error="users_list_not_supplied").split(",") if u]
        if len(users) != 1:
            raise ApiError("not_supported", messages=["the sandbox opens 1:1 DMs only"])
        channel = world.open_dm(users[0].strip())
    return {"no_op": False, "already_open": False, "channel": channel.to_api()}


def conversations_list(world: SlackWorld, args: Args) -> JSON:
    """Channels of the given `types` (public_channel by default), paginated by cursor."""
    types = set((args.opt("types") or "public_channel").split(","))
    found = [
        c.to_api()
        for c in sorted(world.channels.values(), key=lambda c: c.id)
        if ("im" if c.is_im else "public_channel") in types
    ]
    start = args.integer("cursor", 0) if args.opt("cursor") else 0
    limit = max(1, min(args.integer("limit", 100), 1000))
    more = start + limit < len(found)
    return {
        "channels": found[start : start + limit],
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def conversations_info(world: SlackWorld, args: Args) -> JSON:
    return {"channel": world.channel_by_id(args.req("channel", error="channel_not_found")).to_api()}


def _page(world: SlackWorld, args: Args, messages: list[Message]) -> JSON:
    try:
        oldest = float(args.opt("oldest") or 0)
        latest = float(args.opt("latest") or "inf")
    except ValueError:
        raise ApiError("invalid_ts_oldest") from None
    inclusive = args.opt("inclusive") in ("true", "1", "True")
    kept = [
        m
        for m in messages
        if (oldest < float(m.ts) < latest) or (inclusive and float(m.ts) in (oldest, latest))
    ]
    start = args.integer("cursor", 0) if args.opt("cursor") else 0
    limit = max(1, min(args.integer("limit", 100), 999))
    page = kept[start : start + limit]
    has_more = start + limit < len(kept)
    with_metadata = args.opt("include_all_metadata") in ("true", "1", "True")
    return {
        "messages": [_message(world, m, with_metadata=with_metadata) for m in page],
        "has_more": has_more,
        "response_metadata": {"next_cursor": str(start + limit) if has_more else ""},
    }


def conversations_history(world: SlackWorld, args: Args) -> JSON:
    channel = world.channel_by_id(args.req("channel", error="channel_not_found"))
    return _page(world, args, list(reversed(world.channel_messages(channel.id))))


def conversations_replies(world: SlackWorld, args: Args) -> JSON:
    channel = world.channel_by_id(args.req("channel", error="channel_not_found"))
    ts = args.req("ts", error="thread_not_found")
    if (channel.id, ts) not in world.messages:
        raise ApiError("thread_not_found")
    return _page(world, args, world.thread(channel.id, ts))


def _view_body(world: SlackWorld, view_id: str) -> JSON:
    view = world.views.get(view_id)
    return {"view": view.to_api(team_id=world.team_id, app_id=world.app_id, bot_id=world.bot_id)}


def _view_arg(args: Args) -> JSON:
    return check_view(args.json("view"))


def views_open(world: SlackWorld, args: Args) -> JSON:
    trigger_id = args.req("trigger_id", error="invalid_trigger_id")
    return _view_body(world, world.views.open(trigger_id, _view_arg(args)).id)


def views_push(world: SlackWorld, args: Args) -> JSON:
    trigger_id = args.req("trigger_id", error="invalid_trigger_id")
    return _view_body(world, world.views.push(trigger_id, _view_arg(args)).id)


def views_update(world: SlackWorld, args: Args) -> JSON:
    view_id, external_id = args.opt("view_id"), args.opt("external_id")
    if view_id is None and external_id is None:
        raise ApiError("invalid_arguments", messages=["view_id or external_id is required"])
    view = world.views.get(view_id, external_id=external_id)
    world.views.update(view, _view_arg(args), expected_hash=args.opt("hash"))
    return _view_body(world, view.id)


def users_info(world: SlackWorld, args: Args) -> JSON:
    user = world.users.get(args.req("user", error="user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.to_api(world.team_id)}


def users_lookup_by_email(world: SlackWorld, args: Args) -> JSON:
    user = world.user_by_email(args.req("email", error="users_not_found"))
    if user is None:
        raise ApiError("users_not_found")
    return {"user": user.to_api(world.team_id)}


def users_list(world: SlackWorld, args: Args) -> JSON:
    return {
        "members": [u.to_api(world.team_id) for u in world.users.values()],
        "cache_ts": int(world.wall_clock()),
        "response_metadata": {"next_cursor": ""},
    }


def usergroups_users_list(world: SlackWorld, args: Args) -> JSON:
    return {"users": list(world.usergroups.get(args.req("usergroup", error="no_such_subteam"), []))}


METHODS: dict[str, Callable[[SlackWorld, Args], JSON]] = {
    "apps.connections.open": apps_connections_open,
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "conversations.list": conversations_list,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.users.list": usergroups_users_list,
}
