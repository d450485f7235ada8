// The sandbox page: renders the fake Slack's state and turns what a person does into requests
// the sandbox server hands to the fake Slack's driver (which calls the bot as Slack would).
"use strict";

const EMOJI = {
  teacher: "🧑‍🏫", "+1": "👍", thumbsup: "👍", heart: "❤️", eyes: "👀", white_check_mark: "✅",
  tada: "🎉", pray: "🙏", hourglass_flowing_sand: "⏳", hourglass: "⌛", warning: "⚠️",
  star: "⭐", bulb: "💡", speech_balloon: "💬", red_circle: "🔴", large_green_circle: "🟢",
  large_yellow_circle: "🟡", large_red_square: "🟥", white_large_square: "⬜", x: "❌",
  wave: "👋", rage: "😡", angry: "😠", neutral_face: "😐", slightly_smiling_face: "🙂",
  smile: "😄", chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉",
  memo: "📝", mag: "🔍", sparkles: "✨", calendar: "📅", clock930: "🕤", trophy: "🏆",
};
const ROLE_LABEL = { lead: "team lead (admin)", agent: "agent", customer: "customer" };
// Many computers (most Linux ones) have no colour-emoji font: emoji are empty boxes there. So
// the bot's own glyphs (the anger meter's squares, the step dots) are drawn with CSS, the page's
// icons are inline SVG, and other emoji show as their :names: when the font is missing.
const SHAPES = {
  "\u{1F7E5}": "square red", "\u{1F7E7}": "square orange", "\u{1F7E8}": "square yellow",
  "\u{1F7E9}": "square green", "\u2B1C": "square blank",
  "\u{1F7E2}": "dot green", "\u{1F7E1}": "dot yellow", "\u{1F534}": "dot red",
};
const SHAPE = new RegExp(Object.keys(SHAPES).join("|"), "gu");
const svg = (paths) => `<svg class="icon-svg" viewBox="0 0 16 16" aria-hidden="true" focusable="false">${paths}</svg>`;
const ICONS = {
  dm: svg('<path d="M2 3h12v8H7l-3 3v-3H2z"/>'),
  home: svg('<path d="M2 8.5 8 3l6 5.5M4 7.5V14h8V7.5"/>'),
  eye: svg('<path d="M1 8s2.6-4.5 7-4.5S15 8 15 8s-2.6 4.5-7 4.5S1 8 1 8z"/><circle cx="8" cy="8" r="2"/>'),
  react: svg('<circle cx="7" cy="9" r="5.5"/><path d="M4.8 10.2c1.2 1.4 3.2 1.4 4.4 0M5.2 7.3h0M8.8 7.3h0M13 1.5v4M11 3.5h4"/>'),
  reply: svg('<path d="M2 3h12v8H7l-3 3v-3H2zM5 6h6M5 8.5h4"/>'),
  bolt: svg('<path d="M9.5 1 3.5 9h4l-1 6 6-8h-4z"/>'),
};
const COLOUR_EMOJI = colourEmojiShown();
const EMOJI_NAMES = Object.fromEntries(Object.entries(EMOJI).map(([name, glyph]) => [glyph, name]));
const KNOWN_EMOJI = new RegExp(Object.keys(EMOJI_NAMES).sort((a, b) => b.length - a.length).join("|"), "gu");

// Whether this computer draws emoji in colour: a colour-emoji font paints a red square red,
// a missing one leaves an outlined box in the text colour.
function colourEmojiShown() {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 24;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) return false;
  context.textBaseline = "top";
  context.font = "20px sans-serif";
  context.fillText("\u{1F7E5}", 0, 0);
  const pixels = context.getImageData(0, 0, 24, 24).data;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] > 128 && pixels[i] > 150 && pixels[i + 1] < 110 && pixels[i + 2] < 110) return true;
  }
  return false;
}

let state = null;
let persona = localStorage.getItem("sandbox-persona") || "ana";
let current = localStorage.getItem("sandbox-current") || "";
let openThread = null; // {channel, ts}
let shownModal = "";
// Unread marks, as Slack's sidebar: per persona, the newest top-level ts seen in each channel.
// What was there when the page first showed a persona counts as seen.
const seen = {};

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ talking to the server

async function api(action, body = {}) {
  const response = await fetch(`/api/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: persona, ...body }),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: "no answer" }));
  if (!answer.ok) toast(answer.error || "That did not work.");
  return answer;
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 40);
}

// Only the newest answer is shown: an older one (e.g. for the previous persona) may come later.
let asked = 0;
let shown = 0;
async function refresh() {
  const number = ++asked;
  const response = await fetch(`/api/state?as=${encodeURIComponent(persona)}`).catch(() => null);
  if (!response || !response.ok) { setTimeout(scheduleRefresh, 300); return; }
  const answer = await response.json();
  if (number < shown || answer.as !== persona) return;
  shown = number;
  state = answer;
  render();
}

function listen() {
  const events = new EventSource("/api/events");
  events.onmessage = scheduleRefresh;
}

// ------------------------------------------------------------------ text

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function unescapeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function userName(id) {
  return (state && state.users[id] && state.users[id].name) || id;
}

function channelName(id) {
  const channel = state && state.channels.find((c) => c.id === id);
  return channel ? channel.name : id;
}

// HTML for an emoji by its Slack name: the emoji itself, or its :name: without a colour font.
function emoji(name) {
  return COLOUR_EMOJI && EMOJI[name] ? EMOJI[name] : `<span class="emoji-name">:${escapeHtml(name)}:</span>`;
}

// Escaped text with its glyphs made visible on any computer (see SHAPES).
function glyphs(html) {
  html = html.replace(SHAPE, (c) => `<span class="glyph ${SHAPES[c]}" aria-hidden="true"></span>`);
  html = html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => (EMOJI[name] ? emoji(name) : whole));
  return COLOUR_EMOJI ? html : html.replace(KNOWN_EMOJI, (c) => emoji(EMOJI_NAMES[c]));
}

// Slack's mrkdwn: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <links|text>,
// <@U…> and <#C…> mentions, :emoji:.
function mrkdwn(source) {
  const tokens = [];
  const keep = (html) => `\u0000${tokens.push(html) - 1}\u0000`;
  let text = source.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${escapeHtml(unescapeSlack(code))}</pre>`));
  text = text.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(unescapeSlack(code))}</code>`));
  text = text.replace(/<([^<>]+)>/g, (_, inner) => {
    const [target, label] = inner.split("|", 2);
    if (target.startsWith("@")) return keep(`<span class="mention">@${escapeHtml(userName(target.slice(1)))}</span>`);
    if (target.startsWith("#")) return keep(`<span class="mention">#${escapeHtml(label || channelName(target.slice(1)))}</span>`);
    if (target.startsWith("!")) {
      const special = target.slice(1).split("^")[0];
      return keep(`<span class="mention">@${escapeHtml(label ? label.replace(/^@/, "") : special)}</span>`);
    }
    const href = unescapeSlack(target);
    const safe = /^(https?:|mailto:)/.test(href) ? href : "#";
    // A Slack permalink opens the message here, as Slack does (see openMessage).
    const permalink = /^https:\/\/slack\.com\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})$/.exec(href);
    const inPage = permalink ? ` data-channel="${permalink[1]}" data-ts="${permalink[2]}.${permalink[3]}"` : "";
    return keep(`<a href="${escapeHtml(safe)}" target="_blank" rel="noopener"${inPage}>${escapeHtml(unescapeSlack(label || target))}</a>`);
  });
  let html = escapeHtml(unescapeSlack(text));
  html = html.replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, "$1<b>$2</b>");
  html = html.replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, "$1<i>$2</i>");
  html = html.replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, "$1<s>$2</s>");
  html = glyphs(html);
  const lines = html.split("\n");
  const out = [];
  let quote = [];
  for (const line of lines) {
    if (line.startsWith("&gt;")) { quote.push(line.replace(/^&gt; ?/, "")); continue; }
    if (quote.length) { out.push(`<blockquote>${quote.join("<br>")}</blockquote>`); quote = []; }
    out.push(line + "<br>");
  }
  if (quote.length) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
  html = out.join("").replace(/(<br>)+$/, "").replace(/<br><blockquote>/g, "<blockquote>");
  return html.replace(/\u0000(\d+)\u0000/g, (_, i) => tokens[Number(i)]);
}

function textObject(object) {
  if (!object) return "";
  if (object.type === "mrkdwn") return mrkdwn(object.text || "");
  return glyphs(escapeHtml(object.text || "")).replace(/\n/g, "<br>");
}

function el(tag, className, html) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (html !== undefined) node.innerHTML = html;
  return node;
}

// ------------------------------------------------------------------ Block Kit

// `where`: {target} for messages and views, so elements can be used; `inputs` collects the
// input elements of a modal.
function renderBlocks(blocks, where) {
  const box = el("div", "blocks");
  for (const block of blocks) {
    const node = renderBlock(block, where);
    if (node) box.appendChild(node);
  }
  return box;
}

function renderBlock(block, where) {
  switch (block.type) {
    case "header":
      return el("div", "block-header", textObject(block.text));
    case "divider":
      return el("hr", "block-divider");
    case "context": {
      const node = el("div", "block-context");
      for (const item of block.elements || []) {
        if (item.type === "image") continue;
        node.appendChild(el("span", "text", textObject(item)));
      }
      return node;
    }
    case "section": {
      const node = el("div", "block-section");
      const inner = el("div", "text", block.text ? textObject(block.text) : "");
      if (block.fields) {
        const fields = el("div", "fields");
        for (const field of block.fields) fields.appendChild(el("div", "", textObject(field)));
        inner.appendChild(fields);
      }
      node.appendChild(inner);
      if (block.accessory) {
        const accessory = renderElement(block.accessory, block, where);
        if (accessory) node.appendChild(accessory);
      }
      return node;
    }
    case "actions": {
      const node = el("div", "block-actions");
      for (const element of block.elements || []) {
        const rendered = renderElement(element, block, where);
        if (rendered) node.appendChild(rendered);
      }
      return node;
    }
    case "input":
      return renderInput(block, where);
    case "rich_text":
      return el("div", "text", escapeHtml(JSON.stringify(block)));
    default:
      return el("div", "block-context", `(${escapeHtml(block.type)} block)`);
  }
}

function renderElement(element, block, where) {
  if (element.type === "button") {
    const button = el("button", element.style === "primary" ? "primary" : element.style === "danger" ? "danger-style" : "", textObject(element.text));
    button.type = "button";
    button.dataset.actionId = element.action_id;
    if (element.url) {
      button.addEventListener("click", () => window.open(element.url, "_blank", "noopener"));
    }
    button.addEventListener("click", () => use(where, element.action_id, null));
    return button;
  }
  if (element.type === "static_select" || element.type === "overflow") {
    const select = el("select");
    select.dataset.actionId = element.action_id;
    const placeholder = el("option", "", textObject(element.placeholder) || "Choose…");
    placeholder.value = "";
    select.appendChild(placeholder);
    for (const option of allOptions(element)) {
      const item = el("option", "", textObject(option.text));
      item.value = option.value;
      select.appendChild(item);
    }
    select.addEventListener("change", () => select.value && use(where, element.action_id, select.value));
    return select;
  }
  if (element.type === "image") return null;
  return el("span", "block-context", `(${escapeHtml(element.type)})`);
}

function allOptions(element) {
  const options = [...(element.options || [])];
  for (const group of element.option_groups || []) options.push(...group.options);
  return options;
}

function renderInput(block, where) {
  const node = el("div", "input-block");
  const element = block.element || {};
  const id = `input-${block.block_id}-${element.action_id}`;
  const label = el("label", "title", textObject(block.label));
  label.htmlFor = id;
  node.appendChild(label);
  let read = () => null;
  if (element.type === "plain_text_input") {
    const field = element.multiline ? el("textarea") : el("input");
    if (!element.multiline) field.type = "text";
    if (element.multiline) field.rows = 4;
    field.id = id;
    field.value = element.initial_value || "";
    if (element.placeholder) field.placeholder = element.placeholder.text;
    if (element.max_length) field.maxLength = element.max_length;
    field.dataset.actionId = element.action_id;
    node.appendChild(field);
    read = () => field.value;
  } else if (element.type === "static_select") {
    const select = el("select");
    select.id = id;
    select.dataset.actionId = element.action_id;
    const placeholder = el("option", "", "Choose…");
    placeholder.value = "";
    select.appendChild(placeholder);
    for (const option of allOptions(element)) {
      const item = el("option", "", textObject(option.text));
      item.value = option.value;
      if (element.initial_option && element.initial_option.value === option.value) item.selected = true;
      select.appendChild(item);
    }
    node.appendChild(select);
    read = () => select.value || null;
  } else if (element.type === "radio_buttons" || element.type === "checkboxes") {
    const type = element.type === "radio_buttons" ? "radio" : "checkbox";
    const boxes = [];
    for (const option of element.options || []) {
      const row = el("label", "radio");
      const box = el("input");
      box.type = type;
      box.name = id;
      box.value = option.value;
      const initial = element.initial_option ? [element.initial_option] : element.initial_options || [];
      box.checked = initial.some((o) => o.value === option.value);
      row.appendChild(box);
      row.appendChild(el("span", "", textObject(option.text)));
      node.appendChild(row);
      boxes.push(box);
    }
    read = () => {
      const picked = boxes.filter((b) => b.checked).map((b) => b.value);
      return type === "radio" ? picked[0] || null : picked;
    };
  } else {
    node.appendChild(el("span", "block-context", `(${escapeHtml(element.type || "input")})`));
  }
  if (block.hint) node.appendChild(el("div", "hint", textObject(block.hint)));
  const error = el("div", "field-error");
  error.dataset.blockId = block.block_id;
  node.appendChild(error);
  if (where.inputs) where.inputs.push({ actionId: element.action_id, blockId: block.block_id, read, optional: block.optional });
  return node;
}

async function use(where, actionId, value) {
  if (!where || !where.target) return;
  await api("click", { target: where.target, action_id: actionId, value });
}

// ------------------------------------------------------------------ rendering

function render() {
  if (!state) return;
  const select = $("persona");
  if (select.options.length !== state.personas.length) {
    select.innerHTML = "";
    for (const p of state.personas) {
      const option = el("option", "", `${escapeHtml(p.name)} — ${ROLE_LABEL[p.role]}`);
      option.value = p.key;
      select.appendChild(option);
    }
  }
  select.value = persona;
  $("emoji-note").hidden = COLOUR_EMOJI;
  $("day").textContent = `Sandbox day: ${new Date(state.day + "T12:00:00Z").toDateString()}`;
  const notice = $("notice");
  notice.hidden = !state.notice;
  notice.textContent = state.notice;
  if (!state.channels.some((c) => c.id === current) && current !== "home") current = state.channels[0].id;
  markSeen();
  renderSidebar();
  renderPane();
  renderThread();
  renderModal();
}

function newestTs(channelId) {
  const messages = state.conversations[channelId].messages;
  return messages.length ? messages[messages.length - 1].ts : "0";
}

function markSeen() {
  if (!seen[state.as]) {
    seen[state.as] = {};
    for (const channel of state.channels) seen[state.as][channel.id] = newestTs(channel.id);
  }
  if (state.conversations[current]) seen[state.as][current] = newestTs(current);
}

// Top-level messages by someone else since the channel was last looked at.
function unreadCount(channelId) {
  const since = Number(seen[state.as][channelId] || 0);
  return state.conversations[channelId].messages.filter((m) => Number(m.ts) > since && m.user !== state.me).length;
}

function renderSidebar() {
  const channels = $("channels");
  const apps = $("apps");
  channels.innerHTML = "";
  apps.innerHTML = "";
  for (const channel of state.channels) {
    const item = el("li");
    const label = `${channel.kind === "dm" ? ICONS.dm : "#"} ${escapeHtml(channel.name)}`;
    const unread = channel.id === current ? 0 : unreadCount(channel.id);
    const button = el("button", channel.id === current ? "active" : unread ? "unread" : "", label);
    if (unread) {
      const badge = el("span", "badge", String(unread));
      badge.setAttribute("data-testid", "unread");
      badge.title = `${unread} new`;
      button.appendChild(badge);
    }
    button.type = "button";
    button.dataset.testid = `nav-${channel.kind === "dm" ? "dm" : channel.name}`;
    button.setAttribute("data-testid", button.dataset.testid);
    button.addEventListener("click", () => go(channel.id));
    item.appendChild(button);
    (channel.kind === "dm" ? apps : channels).appendChild(item);
  }
  const home = el("li");
  const button = el("button", current === "home" ? "active" : "", `${ICONS.home} ASAP Coach Home`);
  button.type = "button";
  button.setAttribute("data-testid", "nav-home");
  button.addEventListener("click", () => go("home"));
  home.appendChild(button);
  apps.appendChild(home);
}

function go(where) {
  current = where;
  localStorage.setItem("sandbox-current", where);
  openThread = null;
  if (where === "home") api("home");
  render();
  scrollToBottom($("messages"));
  if (where !== "home") $("message-box").focus();
}

function renderPane() {
  const head = $("pane-head");
  const box = $("messages");
  const composer = $("composer");
  const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.innerHTML = "";
  if (current === "home") {
    head.innerHTML = `${ICONS.home} ASAP Coach <span class='about'>Home tab</span>`;
    composer.hidden = true;
    const home = el("div", "home");
    home.setAttribute("data-testid", "home");
    if (state.home) {
      home.appendChild(renderBlocks(state.home.definition.blocks || [], { target: { kind: "view", id: state.home.id } }));
    } else {
      home.appendChild(el("div", "empty", "Opening the Home tab…"));
    }
    box.appendChild(home);
    return;
  }
  composer.hidden = false;
  const channel = state.channels.find((c) => c.id === current);
  head.innerHTML = `${channel.kind === "dm" ? ICONS.dm : "#"} ${escapeHtml(channel.name)} <span class="about">${escapeHtml(channel.about)}</span>`;
  $("message-box").placeholder = channel.kind === "dm" ? "Message ASAP Coach, or /practice …" : `Message #${channel.name}, or /practice …`;
  const conversation = state.conversations[current];
  const items = [
    ...conversation.messages.map((m) => ({ kind: "message", item: m })),
    ...conversation.ephemerals.filter((e) => !e.thread_ts).map((e) => ({ kind: "ephemeral", item: e })),
  ].sort((a, b) => Number(a.item.ts) - Number(b.item.ts));
  if (!items.length) box.appendChild(el("div", "empty", "No messages yet. Try /practice help."));
  for (const { kind, item } of items) box.appendChild(renderMessage(item, kind, current, true));
  if (stick) scrollToBottom(box);
}

function scrollToBottom(box) {
  box.scrollTop = box.scrollHeight;
}

function renderMessage(message, kind, channel, inChannel) {
  const user = kind === "ephemeral" ? state.bot : message.user || state.bot;
  const role = message.bot || kind === "ephemeral" ? "app" : (state.users[user] || {}).role || "";
  const node = el("div", `msg${kind === "ephemeral" ? " ephemeral" : ""}`);
  node.dataset.ts = message.ts;
  node.setAttribute("data-testid", kind === "ephemeral" ? "ephemeral" : "message");
  const name = userName(user);
  node.appendChild(el("div", `avatar ${role}`, escapeHtml(name.slice(0, 1))));
  const body = el("div", "body");
  if (kind === "ephemeral") body.appendChild(el("div", "only-you", `${ICONS.eye} Only visible to you`));
  const time = new Date(Number(message.ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const tag = role === "app" ? "<span class='tag'>APP</span>" : role ? `<span class='tag'>${escapeHtml(role)}</span>` : "";
  body.appendChild(el("div", "who", `${escapeHtml(name)}${tag}<span class="when">${time}${message.edited ? " (edited)" : ""}</span>`));
  const target = kind === "ephemeral" ? { kind: "ephemeral", channel, ts: message.ts } : { kind: "message", channel, ts: message.ts, thread_ts: inChannel ? null : message.thread_ts };
  if (message.blocks && message.blocks.length) {
    body.appendChild(renderBlocks(message.blocks, { target }));
  } else {
    body.appendChild(el("div", "text", mrkdwn(message.text || "")));
  }
  if (kind === "message") {
    if (message.reactions.length) {
      const row = el("div", "reactions");
      for (const reaction of message.reactions) {
        const mine = reaction.users.includes(state.me);
        const chip = el("button", `reaction${mine ? " mine" : ""}`, `${emoji(reaction.name)} ${reaction.users.length}`);
        chip.type = "button";
        chip.title = `:${reaction.name}: by ${reaction.users.map(userName).join(", ")}`;
        chip.setAttribute("data-testid", `reaction-${reaction.name}`);
        chip.addEventListener("click", () => api("react", { channel, ts: message.ts, thread_ts: message.thread_ts, name: reaction.name }));
        row.appendChild(chip);
      }
      body.appendChild(row);
    }
    if (inChannel && message.replies && message.replies.length) {
      const link = el("button", "replies-link", `${message.replies.length} ${message.replies.length === 1 ? "reply" : "replies"}`);
      link.type = "button";
      link.setAttribute("data-testid", "replies");
      link.addEventListener("click", () => showThread(channel, message.ts));
      body.appendChild(link);
    }
    node.appendChild(toolbar(message, channel, inChannel));
  }
  node.appendChild(body);
  return node;
}

function toolbar(message, channel, inChannel) {
  const tools = el("div", "tools");
  const react = el("button", "", ICONS.react);
  react.type = "button";
  react.title = "Add a reaction";
  react.setAttribute("aria-label", react.title);
  react.setAttribute("data-testid", "react");
  react.addEventListener("click", (event) => emojiPicker(event.currentTarget, channel, message));
  tools.appendChild(react);
  if (inChannel) {
    const reply = el("button", "", ICONS.reply);
    reply.type = "button";
    reply.title = "Reply in thread";
    reply.setAttribute("aria-label", reply.title);
    reply.setAttribute("data-testid", "reply-in-thread");
    reply.addEventListener("click", () => showThread(channel, message.ts));
    tools.appendChild(reply);
  }
  const more = el("button", "", "…");
  more.type = "button";
  more.title = "More actions";
  more.setAttribute("aria-label", more.title);
  more.setAttribute("data-testid", "more");
  more.addEventListener("click", (event) => shortcutMenu(event.currentTarget, channel, message));
  tools.appendChild(more);
  return tools;
}

function popover(anchor, build) {
  const box = $("popover");
  box.innerHTML = "";
  build(box);
  box.hidden = false;
  const rect = anchor.getBoundingClientRect();
  box.style.top = `${Math.min(rect.bottom + 4, window.innerHeight - box.offsetHeight - 8)}px`;
  box.style.left = `${Math.max(8, Math.min(rect.right - box.offsetWidth, window.innerWidth - box.offsetWidth - 8))}px`;
  const first = box.querySelector("button");
  if (first) first.focus();
}

function closePopover() {
  $("popover").hidden = true;
}

function emojiPicker(anchor, channel, message) {
  popover(anchor, (box) => {
    for (const name of state.emoji) {
      const button = el("button", "", emoji(name));
      button.type = "button";
      button.title = `:${name}:`;
      button.setAttribute("data-testid", `emoji-${name}`);
      button.addEventListener("click", () => {
        closePopover();
        api("react", { channel, ts: message.ts, thread_ts: message.thread_ts, name });
      });
      box.appendChild(button);
    }
  });
}

function shortcutMenu(anchor, channel, message) {
  popover(anchor, (box) => {
    for (const shortcut of state.shortcuts) {
      const button = el("button", "menu-item", `${ICONS.bolt} ${escapeHtml(shortcut.name)}`);
      button.type = "button";
      button.setAttribute("data-testid", `shortcut-${shortcut.callback_id}`);
      button.addEventListener("click", () => {
        closePopover();
        api("shortcut", { channel, ts: message.ts, callback_id: shortcut.callback_id });
      });
      box.appendChild(button);
    }
  });
}

function openMessage(channel, ts) {
  const conversation = state.conversations[channel];
  if (!conversation) { toast("That conversation is not one you are in."); return; }
  const root = conversation.messages.find((m) => m.ts === ts || m.replies.some((r) => r.ts === ts));
  if (!root) { toast("That message is no longer shown (it was posted before a restart, or deleted)."); return; }
  go(channel);
  if (root.replies.length) showThread(channel, root.ts);
}

function showThread(channel, ts) {
  openThread = { channel, ts };
  renderThread();
  $("thread-box").focus();
}

function renderThread() {
  const pane = $("thread");
  if (!openThread || current !== openThread.channel || !state.conversations[current]) {
    pane.hidden = true;
    return;
  }
  const conversation = state.conversations[current];
  const root = conversation.messages.find((m) => m.ts === openThread.ts);
  if (!root) { pane.hidden = true; return; }
  pane.hidden = false;
  const box = $("thread-messages");
  const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.innerHTML = "";
  const head = el("div", "thread-root");
  head.appendChild(renderMessage({ ...root, replies: [] }, "message", current, false));
  box.appendChild(head);
  const items = [
    ...root.replies.map((m) => ({ kind: "message", item: m })),
    ...conversation.ephemerals.filter((e) => e.thread_ts === root.ts).map((e) => ({ kind: "ephemeral", item: e })),
  ].sort((a, b) => Number(a.item.ts) - Number(b.item.ts));
  for (const { kind, item } of items) box.appendChild(renderMessage(item, kind, current, false));
  if (stick) scrollToBottom(box);
}

function renderModal() {
  const overlay = $("overlay");
  const modal = state.modal;
  if (!modal) {
    overlay.hidden = true;
    shownModal = "";
    return;
  }
  const key = modal.id + JSON.stringify(modal.definition);
  if (key === shownModal && !overlay.hidden) return; // keep what the person typed
  shownModal = key;
  const definition = modal.definition;
  const box = $("modal");
  box.innerHTML = "";
  const head = el("div", "modal-head", textObject(definition.title));
  const close = el("button", "icon", "×");
  close.type = "button";
  close.setAttribute("aria-label", "Close");
  close.addEventListener("click", closeModal);
  head.appendChild(close);
  box.appendChild(head);
  const where = { target: { kind: "view", id: modal.id }, inputs: [] };
  const body = el("div", "modal-body");
  body.appendChild(renderBlocks(definition.blocks || [], where));
  box.appendChild(body);
  const foot = el("div", "modal-foot");
  const cancel = el("button", "", textObject(definition.close) || "Cancel");
  cancel.type = "button";
  cancel.addEventListener("click", closeModal);
  foot.appendChild(cancel);
  if (definition.submit) {
    const submit = el("button", "primary", textObject(definition.submit));
    submit.type = "button";
    submit.setAttribute("data-testid", "modal-submit");
    submit.addEventListener("click", () => submitModal(modal.id, where.inputs));
    foot.appendChild(submit);
  }
  box.appendChild(foot);
  overlay.hidden = false;
  const first = box.querySelector(".modal-body textarea, .modal-body input, .modal-body select");
  if (first) first.focus();
}

async function submitModal(viewId, inputs) {
  const values = {};
  let missing = false;
  for (const input of inputs) {
    const value = input.read();
    const error = $("modal").querySelector(`.field-error[data-block-id="${CSS.escape(input.blockId)}"]`);
    if (error) error.textContent = "";
    if ((value === null || value === "") && !input.optional) {
      if (error) error.textContent = "Please complete this required field.";
      missing = true;
    }
    if (value !== null && value !== "") values[input.actionId] = value;
  }
  if (missing) return;
  const answer = await api("submit", { view_id: viewId, values });
  if (answer.ok && answer.outcome && answer.outcome.startsWith("errors")) toast("The app answered with errors.");
}

function closeModal() {
  if (!state || !state.modal) return;
  const id = state.modal.id;
  $("overlay").hidden = true;
  api("close", { view_id: id });
}

let toastTimer = null;
function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

// ------------------------------------------------------------------ sending

async function send(box, threadTs) {
  const text = box.value;
  if (!text.trim()) { // Slack does not send an empty message; say so rather than do nothing
    toast("Type a message first: an empty message is not sent.");
    box.value = "";
    box.focus();
    return;
  }
  box.value = "";
  if (text.trim().startsWith("/")) {
    const answer = await api("command", { channel: current, text: text.trim() });
    if (!answer.ok) box.value = text;
    return;
  }
  const answer = await api("post", { channel: current, text, thread_ts: threadTs });
  if (!answer.ok) box.value = text;
}

function enterSends(box, threadTs) {
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(box, threadTs());
    }
  });
}

function setUp() {
  $("composer").addEventListener("submit", (event) => { event.preventDefault(); send($("message-box"), null); });
  $("thread-composer").addEventListener("submit", (event) => { event.preventDefault(); send($("thread-box"), openThread && openThread.ts); });
  enterSends($("message-box"), () => null);
  enterSends($("thread-box"), () => openThread && openThread.ts);
  $("close-thread").addEventListener("click", () => { openThread = null; renderThread(); });
  $("persona").addEventListener("change", (event) => {
    persona = event.target.value;
    localStorage.setItem("sandbox-persona", persona);
    openThread = null;
    shownModal = "";
    if (current === "home") api("home");
    refresh();
  });
  for (const action of ["remind", "tomorrow"]) {
    $(action).addEventListener("click", async () => {
      const answer = await api(action);
      if (answer.ok) toast(answer.said); // the bot's delivery log, against what #team shows
    });
  }
  $("reset").addEventListener("click", async () => {
    if (!window.confirm("Start the sandbox over? Everything done in it is deleted.")) return;
    openThread = null;
    await api("reset");
    refresh();
  });
  $("overlay").addEventListener("click", (event) => { if (event.target === $("overlay")) closeModal(); });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (!$("popover").hidden) closePopover();
    else if (!$("overlay").hidden) closeModal();
    else if (openThread) { openThread = null; renderThread(); }
  });
  document.addEventListener("click", (event) => {
    const permalink = event.target.closest("a[data-ts]");
    if (permalink) {
      event.preventDefault();
      openMessage(permalink.dataset.channel, permalink.dataset.ts);
    }
  });
  document.addEventListener("click", (event) => {
    if (!$("popover").hidden && !$("popover").contains(event.target) && !event.target.closest(".tools")) closePopover();
  });
  listen();
  refresh();
}

setUp();
