// Block Kit and mrkdwn rendering for the sandbox page. Plain DOM: every string is set with
// textContent or as an attribute value, never innerHTML. `ui` and `act_` live in sandbox.js.
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
  // what the user typed before a refused submit stays, as in Slack (the view's "values")
  const typed = where.values?.[block.block_id]?.[element.action_id];
  let control;
  if (element.type === "plain_text_input") {
    const attrs = Object.assign({ placeholder: element.placeholder?.text }, common);
    const value = typed ?? element.initial_value ?? "";
    control = element.multiline ? el("textarea", attrs, value)
      : el("input", Object.assign({ value }, attrs));
  } else if (element.type === "static_select" || element.type === "radio_buttons") {
    const chosen = typed ?? element.initial_option?.value;
    control = el("select", common, el("option", { value: "" }, element.placeholder?.text || "Select…"),
      options(element).map((o) => el("option", { value: o.value, selected: chosen === o.value }, emojify(o.text?.text || o.value))));
  } else if (element.type === "users_select") {
    const chosen = typed ?? element.initial_user;
    control = el("select", common, el("option", { value: "" }, element.placeholder?.text || "Select a person…"),
      (ui.state.users || []).filter((u) => !u.is_bot).map((u) => el("option", { value: u.id, selected: chosen === u.id }, u.name)));
  } else if (element.type === "datepicker") { // Slack's value is YYYY-MM-DD, as the browser's
    control = el("input", Object.assign({ type: "date", value: typed ?? element.initial_date ?? "" }, common));
  } else {
    control = el("input", Object.assign({ value: typed ?? element.initial_value ?? "", placeholder: `[${element.type}]` }, common));
  }
  const error = where.errors?.[block.block_id];
  return el("div", { className: "block input" },
    el("label", { for: id }, block.label?.text || "", block.optional ? el("span", { className: "optional" }, " (optional)") : null),
    control,
    block.hint ? el("div", { className: "hint" }, block.hint.text) : null,
    error ? el("div", { className: "error" }, error) : null);
}

