// The local Slack sandbox page. Plain DOM: every string is set with textContent, never innerHTML.
"use strict";

const EMOJI = {
  red_circle: "🔴", large_orange_circle: "🟠", large_yellow_circle: "🟡", large_blue_circle: "🔵",
  large_green_circle: "🟢", white_circle: "⚪", white_check_mark: "✅", heavy_check_mark: "✔️",
  warning: "⚠️", rotating_light: "🚨", fire: "🔥", bell: "🔔", no_bell: "🔕", zzz: "💤",
  eyes: "👀", x: "❌", no_entry: "⛔", hourglass: "⌛", hourglass_flowing_sand: "⏳",
  bust_in_silhouette: "👤", busts_in_silhouette: "👥", link: "🔗", memo: "📝", mag: "🔍",
  arrow_up: "⬆️", arrow_down: "⬇️", calendar: "📅", clock1: "🕐", raising_hand: "🙋",
  point_right: "👉", books: "📚", chart_with_upwards_trend: "📈", pager: "📟", wrench: "🔧",
  information_source: "ℹ️", question: "❓", thumbsup: "👍", "+1": "👍", tada: "🎉",
};

const ui = {
  state: null, version: -1, user: localStorage.getItem("sandbox-user") || "U0ALICE",
  channel: null, openThreads: new Set(), viewKey: null, viewErrors: {}, highlight: null,
};

// ---- DOM helpers -----------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

function decodeEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function emojify(text) {
  return text.replace(/:([a-z0-9_+\-]+):/g, (all, name) => EMOJI[name] || all);
}

function userName(id) {
  const user = (ui.state?.users || []).find((u) => u.id === id);
  return user ? user.name : id;
}

function channelName(id) {
  const channel = (ui.state?.channels || []).find((c) => c.id === id);
  return channel ? channel.name : id;
}

// ---- mrkdwn ----------------------------------------------------------------------------------
const INLINE = /<([^<>|]+)(?:\|([^<>]*))?>|`([^`\n]+)`|\*([^*\n]+)\*|(?<![A-Za-z0-9])_([^_\n]+)_(?![A-Za-z0-9])|~([^~\n]+)~/g;

function inline(text, parent) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.append(emojify(decodeEntities(text.slice(last, m.index))));
    last = m.index + m[0].length;
    if (m[1] !== undefined) parent.append(reference(m[1], m[2]));
    else if (m[3] !== undefined) parent.append(el("code", {}, decodeEntities(m[3])));
    else if (m[4] !== undefined) inline(m[4], parent.appendChild(el("b")));
    else if (m[5] !== undefined) inline(m[5], parent.appendChild(el("i")));
    else if (m[6] !== undefined) inline(m[6], parent.appendChild(el("s")));
  }
  if (last < text.length) parent.append(emojify(decodeEntities(text.slice(last))));
}

function reference(target, label) {
  if (target.startsWith("@")) return el("span", { className: "mention" }, "@" + (label || userName(target.slice(1))));
  if (target.startsWith("#")) return el("span", { className: "mention" }, "#" + (label || channelName(target.slice(1))));
  if (target.startsWith("!subteam^")) return el("span", { className: "mention" }, label || "@group");
  if (target.startsWith("!date^")) return decodeEntities(label || target);
  if (target.startsWith("!")) return el("span", { className: "mention" }, "@" + target.slice(1));
  const url = decodeEntities(target);
  if (/^(https?:|mailto:)/i.test(url)) {
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, decodeEntities(label || url));
  }
  return decodeEntities(label || target);
}

function mrkdwn(text) {
  const box = el("div", { className: "mrkdwn" });
  const parts = String(text || "").split("```");
  parts.forEach((part, i) => {
    if (i % 2 === 1) { box.append(el("pre", {}, decodeEntities(part.replace(/^\n/, "")))); return; }
    part.split("\n").forEach((line, j, lines) => {
      const quote = line.startsWith("&gt; ") || line.startsWith("> ");
      const target = quote ? box.appendChild(el("blockquote")) : box;
      inline(quote ? line.replace(/^(&gt;|>) /, "") : line, target);
      if (!quote && j < lines.length - 1) box.append("\n");
    });
  });
  return box;
}

function textObject(obj) {
  if (!obj) return "";
  if (obj.type === "mrkdwn") return mrkdwn(obj.text);
  return el("span", {}, emojify(String(obj.text || "")));
}

// ---- Block Kit ---------------------------------------------------------------------------------
// `where` says what an action acts on: {channel, ts} for messages; {view} inside a modal.
function renderBlocks(blocks, where) {
  return (blocks || []).map((block) => renderBlock(block, where));
}

function renderBlock(block, where) {
  switch (block.type) {
    case "header": return el("div", { className: "block header" }, textObject(block.text));
    case "divider": return el("hr", { className: "block divider" });
    case "section": {
      const main = el("div", {}, block.text ? textObject(block.text) : null);
      if (block.fields) main.append(el("div", { className: "fields" }, block.fields.map(textObject)));
      const accessory = block.accessory ? renderElement(block.accessory, block.block_id, where) : null;
      return el("div", { className: "block section" }, main, accessory);
    }
    case "context":
      return el("div", { className: "block context" }, (block.elements || []).map((e) =>
        e.type === "image" ? el("img", { src: e.image_url, alt: e.alt_text || "" }) : textObject(e)));
    case "actions":
      return el("div", { className: "block actions" },
        (block.elements || []).map((e) => renderElement(e, block.block_id, where)));
    case "input": return renderInput(block, where);
    case "image":
      return el("div", { className: "block" }, el("img", { src: block.image_url, alt: block.alt_text || "", style: "max-width:360px" }));
    case "markdown": return el("div", { className: "block" }, mrkdwn(block.text));
    default: return el("div", { className: "block unknown" }, `[${block.type} block]`);
  }
}

function options(element) {
  const all = [...(element.options || [])];
  for (const group of element.option_groups || []) all.push(...(group.options || []));
  return all;
}

function renderElement(element, blockId, where) {
  const inView = Boolean(where.view);
  const act = (extra) => act_(Object.assign({ channel: where.channel, ts: where.ts, action_id: element.action_id }, extra));
  switch (element.type) {
    case "button":
      return el("button", {
        className: "btn " + (element.style || ""), disabled: inView,
        title: inView ? "buttons inside modals are not supported by the sandbox" : element.url || null,
        onclick: () => {
          if (element.url) window.open(element.url, "_blank", "noopener");
          act({ kind: "button", value: element.value ?? null });
        },
      }, emojify(element.text?.text || ""));
    case "static_select":
    case "overflow": {
      const placeholder = element.type === "overflow" ? "⋯" : element.placeholder?.text || "Select…";
      const select = el("select", { className: "el", disabled: inView, onchange: (e) => act({ kind: "select", value: e.target.value }) },
        el("option", { value: "" }, placeholder),
        options(element).map((o) => el("option", { value: o.value, selected: element.initial_option?.value === o.value }, emojify(o.text?.text || o.value))));
      return select;
    }
    case "users_select":
      return el("select", { className: "el", disabled: inView, onchange: (e) => act({ kind: "user_select", selected_user: e.target.value }) },
        el("option", { value: "" }, element.placeholder?.text || "Select a person…"),
        (ui.state.users || []).filter((u) => !u.is_bot).map((u) =>
          el("option", { value: u.id, selected: element.initial_user === u.id }, `${u.name} (${u.real_name})`)));
    default:
      return el("span", { className: "unknown" }, `[${element.type}]`);
  }
}

function renderInput(block, where) {
  const element = block.element || {};
  const id = `in-${block.block_id}-${element.action_id}`;
  const common = { id, "data-block": block.block_id, "data-action": element.action_id, className: "view-input" };
  let control;
  if (element.type === "plain_text_input") {
    const attrs = Object.assign({ placeholder: element.placeholder?.text }, common);
    control = element.multiline ? el("textarea", attrs, element.initial_value || "")
      : el("input", Object.assign({ value: element.initial_value || "" }, attrs));
  } else if (element.type === "static_select" || element.type === "radio_buttons") {
    control = el("select", common, el("option", { value: "" }, element.placeholder?.text || "Select…"),
      options(element).map((o) => el("option", { value: o.value, selected: element.initial_option?.value === o.value }, emojify(o.text?.text || o.value))));
  } else if (element.type === "users_select") {
    control = el("select", common, el("option", { value: "" }, element.placeholder?.text || "Select a person…"),
      (ui.state.users || []).filter((u) => !u.is_bot).map((u) => el("option", { value: u.id, selected: element.initial_user === u.id }, u.name)));
  } else {
    control = el("input", Object.assign({ value: element.initial_value || "", placeholder: `[${element.type}]` }, common));
  }
  const error = where.errors?.[block.block_id];
  return el("div", { className: "block input" },
    el("label", { for: id }, block.label?.text || "", block.optional ? el("span", { className: "optional" }, " (optional)") : null),
    control,
    block.hint ? el("div", { className: "hint" }, block.hint.text) : null,
    error ? el("div", { className: "error" }, error) : null);
}

// ---- channel view ------------------------------------------------------------------------------
function renderMessage(msg, channel, opts) {
  const time = new Date(parseFloat(msg.ts) * 1000).toLocaleTimeString();
  const name = opts.ephemeral ? "tocsin" : msg.user_name;
  const body = el("div", { className: "body" },
    el("div", { className: "meta" }, el("strong", {}, name), (msg.is_bot || opts.ephemeral) ? el("span", { className: "tag" }, "APP") : null,
      time, msg.edited ? ` (edited ×${msg.edited})` : ""),
    opts.ephemeral ? el("div", { className: "note" }, "Only visible to you" + (msg.source === "response_url" ? " · via response_url" : "")) : null,
    msg.blocks && msg.blocks.length ? renderBlocks(msg.blocks, { channel: channel.id, ts: msg.ts }) : mrkdwn(msg.text),
    (msg.attachments || []).map((a) => el("div", { className: "attachment", style: a.color ? `border-left-color:${/^#?[0-9a-f]{3,6}$/i.test(a.color) ? (a.color.startsWith("#") ? a.color : "#" + a.color) : "#ddd"}` : null },
      a.blocks ? renderBlocks(a.blocks, { channel: channel.id, ts: msg.ts }) : mrkdwn(a.text || a.fallback || ""))));
  const row = el("div", { className: "msg" + (opts.ephemeral ? " ephemeral" : "") + (ui.highlight === msg.ts ? " highlight" : ""), id: "m" + msg.ts.replace(".", "") },
    el("div", { className: "avatar" + ((msg.is_bot || opts.ephemeral) ? " bot" : "") }, name.slice(0, 1).toUpperCase()), body);
  const replies = msg.replies || [];
  const threadEphemerals = opts.threadEphemerals || [];
  if (!replies.length && !threadEphemerals.length) return row;
  const key = channel.id + "/" + msg.ts;
  const open = ui.openThreads.has(key);
  const toggle = el("button", { className: "thread-toggle", onclick: () => { open ? ui.openThreads.delete(key) : ui.openThreads.add(key); render(); } },
    open ? "Hide thread" : `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`);
  body.append(toggle);
  if (!open) return row;
  const items = [...replies.map((r) => [r, false]), ...threadEphemerals.map((e) => [e, true])].sort((a, b) => a[0].ts.localeCompare(b[0].ts));
  return el("div", {}, row, el("div", { className: "thread" }, items.map(([m, eph]) => renderMessage(m, channel, { ephemeral: eph }))));
}

function renderChannel() {
  const main = document.getElementById("channel");
  const channel = ui.state.channels.find((c) => c.id === ui.channel);
  if (!channel) {
    fill(main, el("p", { className: "empty" }, "No channel yet: Tocsin creates one when it first posts (or send a slash command)."));
    return;
  }
  const mine = ui.state.ephemerals.filter((e) => e.channel === channel.id);
  const top = mine.filter((e) => !e.thread_ts).map((e) => [e, true]);
  const items = [...channel.messages.map((m) => [m, false]), ...top].sort((a, b) => a[0].ts.localeCompare(b[0].ts));
  const title = channel.is_im ? `Tocsin ↔ @${userName(channel.user)}` : `#${channel.name}`;
  fill(main, 
    el("h1", {}, title, el("span", { className: "stack" }, `  ${channel.id} · ${channel.writes} writes`)),
    items.length ? items.map(([m, eph]) => renderMessage(m, channel, {
      ephemeral: eph, threadEphemerals: eph ? [] : mine.filter((e) => e.thread_ts === m.ts),
    })) : el("p", { className: "empty" }, "No messages."));
}

function renderSidebar() {
  const nav = document.getElementById("channels");
  const button = (c, label) => el("button", { className: c.id === ui.channel ? "active" : "", onclick: () => { ui.channel = c.id; render(); } },
    el("span", {}, label), el("span", { className: "count" }, String(c.messages.length)));
  const publics = ui.state.channels.filter((c) => !c.is_im);
  const dms = ui.state.channels.filter((c) => c.is_im);
  fill(nav, el("h2", {}, "Channels"), publics.map((c) => button(c, "# " + c.name)),
    el("h2", {}, "Direct messages"), dms.map((c) => button(c, (c.user === ui.user ? "★ " : "") + "@" + userName(c.user))));
  document.getElementById("slash-where").textContent = ui.channel ? "in " + (publics.find((c) => c.id === ui.channel) ? "#" + channelName(ui.channel) : "DM") : "in #alerts";
}

// ---- modal -------------------------------------------------------------------------------------
function renderModal() {
  const root = document.getElementById("modal-root");
  const views = ui.state.views || [];
  const view = views[views.length - 1];
  const key = view ? `${view.id}:${view.hash}:${JSON.stringify(ui.viewErrors)}` : null;
  if (key === ui.viewKey) return; // keep what the user typed
  ui.viewKey = key;
  if (!view) { fill(root); return; }
  const close = () => act_({ kind: "close_view", view_id: view.id });
  const submit = () => {
    const values = {};
    for (const input of root.querySelectorAll(".view-input")) {
      (values[input.dataset.block] ||= {})[input.dataset.action] = input.value;
    }
    act_({ kind: "submit_view", view_id: view.id, values });
  };
  fill(root, el("div", { className: "modal-backdrop" },
    el("div", { className: "modal", role: "dialog", "aria-modal": "true", "aria-label": view.title?.text || "Modal" },
      el("div", { className: "modal-title" }, emojify(view.title?.text || ""),
        el("span", { className: "stack" }, views.length > 1 ? `view ${views.length} of the stack · ` : "", view.callback_id || "")),
      el("div", { className: "modal-body" }, renderBlocks(view.blocks, { view: view.id, errors: ui.viewErrors })),
      el("div", { className: "modal-foot" },
        el("button", { className: "btn", onclick: close }, view.close?.text || "Cancel"),
        view.submit ? el("button", { className: "btn primary", onclick: submit }, view.submit.text) : null))));
}

// ---- acting and polling ------------------------------------------------------------------------
function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = "status" + (isError ? " error" : "");
}

async function act_(payload) {
  payload.user = ui.user;
  setStatus("sending…");
  try {
    const response = await fetch("act", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
    const result = await response.json();
    if (payload.kind === "submit_view") ui.viewErrors = result.errors || {};
    if (result.errors) setStatus("The bot refused the form: see the errors in the modal", true);
    else if (!result.ok) setStatus(result.error || `failed (HTTP ${result.status})`, true);
    else setStatus(`${payload.kind}: the bot answered ${result.status ?? "—"}`);
  } catch (error) {
    setStatus(`could not reach the sandbox: ${error}`, true);
  }
  await poll(true);
}

function render() {
  if (!ui.state) return;
  if (!ui.channel || !ui.state.channels.some((c) => c.id === ui.channel)) ui.channel = ui.state.channels[0]?.id || null;
  renderSidebar();
  renderChannel();
  renderModal();
}

async function poll(force) {
  try {
    const response = await fetch("state?user=" + encodeURIComponent(ui.user), { cache: "no-store" });
    const state = await response.json();
    if (force || state.version !== ui.version) {
      const hadViews = (ui.state?.views || []).map((v) => v.id).join();
      ui.state = state;
      ui.version = state.version;
      if (state.views.map((v) => v.id).join() !== hadViews) ui.viewErrors = {};
      renderUsers();
      render();
    }
  } catch (error) {
    setStatus(`could not reach the sandbox: ${error}`, true);
  }
}

function renderUsers() {
  const select = document.getElementById("as-user");
  const humans = ui.state.users.filter((u) => !u.is_bot);
  if (!humans.some((u) => u.id === ui.user) && humans.length) ui.user = humans[0].id;
  fill(select, ...humans.map((u) => el("option", { value: u.id, selected: u.id === ui.user }, `${u.name} (${u.real_name})`)));
}

function init() {
  document.getElementById("as-user").addEventListener("change", (e) => {
    ui.user = e.target.value;
    localStorage.setItem("sandbox-user", ui.user);
    ui.viewKey = null;
    poll(true);
  });
  document.getElementById("slash-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const channel = ui.state?.channels.find((c) => c.id === ui.channel);
    act_({ kind: "slash", command: document.getElementById("slash-command").value || "/tocsin",
      text: document.getElementById("slash-text").value, channel: channel ? channel.id : "#alerts" });
  });
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash.includes("/")) [ui.channel, ui.highlight] = hash.split("/");
  poll(true);
  setInterval(() => poll(false), 1000);
}

init();
