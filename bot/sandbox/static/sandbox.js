// The local Slack sandbox page: polls /state, renders it, and acts through /act.
"use strict";

const ui = {
  state: null, version: -1, user: localStorage.getItem("sandbox-user") || "U0ALICE",
  channel: null, openThreads: new Set(), viewKey: null, viewErrors: {}, highlight: null,
};

// ---- channel view ------------------------------------------------------------------------------
function renderMessage(msg, channel, opts) {
  const time = new Date(parseFloat(msg.ts) * 1000).toLocaleTimeString();
  const name = opts.ephemeral ? ui.state.bot.name : msg.user_name;
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
      el("div", { className: "modal-body" }, renderBlocks(view.blocks, { view: view.id, errors: ui.viewErrors, values: view.values })),
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
    else if (payload.kind === "reset") setStatus("The sandbox was reset");
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
  document.getElementById("reset").addEventListener("click", () => {
    if (confirm("Clear every message, thread and open modal of the sandbox? Tocsin's alerts stay in its database; their old warnings can then no longer be updated.")) act_({ kind: "reset" });
  });
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash.includes("/")) [ui.channel, ui.highlight] = hash.split("/");
  poll(true);
  setInterval(() => poll(false), 1000);
}

init();
