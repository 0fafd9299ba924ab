#include "rest_adapter/admin_pages.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace channelstream::rest {
namespace {

constexpr const char* kStyle = R"CSS(
body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}
header a{color:#9cc3ff;margin-left:16px}
main{padding:24px;max-width:1200px;margin:auto}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;margin-bottom:24px}
.card{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 3px #0002}
.card b{display:block;font-size:26px}
table{width:100%;border-collapse:collapse;background:#fff;margin-bottom:24px;box-shadow:0 1px 3px #0002}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e3e6ea;font-size:14px;vertical-align:top}
code,pre{font-family:ui-monospace,monospace;font-size:12px}
form.signin{background:#fff;max-width:320px;margin:80px auto;padding:24px;border-radius:8px;box-shadow:0 1px 3px #0003}
input,textarea,select,button{font:inherit;padding:6px;margin:4px 0;width:100%;box-sizing:border-box}
.pager button{width:auto;min-width:96px}
.error{color:#b00020}
.muted{color:#667}
)CSS";

std::string Escape(const std::string& text) {
  return absl::StrReplaceAll(text,
                             {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

std::string Page(const std::string& title, const std::string& body) {
  return absl::StrCat("<!doctype html><html><head><meta charset=\"utf-8\"><title>", title,
                      "</title><meta name=\"viewport\" content=\"width=device-width\"><style>",
                      kStyle, "</style></head><body>", body, "</body></html>");
}

}  // namespace

std::string SignInPage(const std::string& error) {
  return Page(
      "Channelstream admin: sign in",
      absl::StrCat(R"(<form class="signin" method="post" action="/admin/sign_in">
<h2>Channelstream admin</h2>)",
                   error.empty() ? "" : absl::StrCat("<p class=\"error\">", Escape(error), "</p>"),
                   R"(<label>User<input name="username" autocomplete="username" autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>)"));
}

std::string AdminPage() {
  // Channels and users are paged separately through /admin/admin.json's cursors ("c:..." walks
  // channels, "u:..." users), so the page stays small with any number of users.
  return Page("Channelstream admin", R"HTML(
<header><strong>Channelstream admin</strong><span><span id="status" class="muted"></span>
<a href="/api-explorer">API explorer</a><a href="/admin/sign_out">Sign out</a></span></header>
<main>
<div class="cards" id="cards"></div>
<h3>Channels <span id="channels-range" class="muted"></span></h3>
<table><thead><tr><th>Name</th><th>Users</th><th>Connections</th><th>Settings</th><th>History</th><th>Last active</th></tr></thead>
<tbody id="channels"></tbody></table>
<p class="pager"><button id="channels-prev">Previous</button> <button id="channels-next">Next</button></p>
<h3>Users <span id="users-range" class="muted"></span></h3>
<table><thead><tr><th>User</th><th>Connections</th><th>State</th></tr></thead><tbody id="users"></tbody></table>
<p class="pager"><button id="users-prev">Previous</button> <button id="users-next">Next</button></p>
</main>
<script>
const PAGE = 50, NAMES_SHOWN = 20;
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const cell = v => '<td>' + v + '</td>';
const num = v => typeof v === 'number' ? v.toLocaleString() : v;
const $ = id => document.getElementById(id);
// Each table keeps the cursors of the pages it has shown: the last one is the current page.
const pagers = {
  channels: {cursors: [''], next: ''},
  users: {cursors: ['u:'], next: ''},
};
async function page(cursor) {
  const r = await fetch('/admin/admin.json?limit=' + PAGE + '&cursor=' + encodeURIComponent(cursor),
                        {credentials: 'same-origin'});
  if (r.status === 401 || r.status === 403) { location.href = '/admin/sign_in'; throw new Error('signed out'); }
  if (!r.ok) throw new Error('HTTP ' + r.status + ' ' + await r.text());
  return r.json();
}
function range(id, first, shown, total) {
  $(id).textContent = shown ? (num(first + 1) + '–' + num(first + shown) + ' of ' + num(total)) : '(none)';
}
function showCards(d) {
  const cards = [['Connections', d.total_connections], ['Channels', d.total_channels],
    ['Users online', d.unique_user_count], ['Users remembered', d.remembered_user_count],
    ['Messages delivered', d.total_messages], ['Messages published', d.total_unique_messages],
    ['Uptime', d.uptime], ['Version', d.version]];
  $('cards').innerHTML = cards.map(([k, v]) =>
    '<div class="card"><span class="muted">' + esc(k) + '</span><b>' + esc(num(v)) + '</b></div>').join('');
}
function userNames(c) {
  const shown = c.users.slice(0, NAMES_SHOWN).map(esc).join(', ');
  const more = c.total_users - Math.min(c.users.length, NAMES_SHOWN);
  return shown + (more > 0 ? ' <span class="muted">and ' + num(more) + ' more</span>' : '');
}
async function refreshChannels() {
  const p = pagers.channels, d = await page(p.cursors[p.cursors.length - 1]);
  showCards(d);
  $('channels').innerHTML = d.channels.map(c => '<tr>' + cell(esc(c.name) + (c.truncated ? ' <span class="muted">(cut)</span>' : '')) +
    cell(userNames(c)) + cell(num(c.total_connections)) +
    cell('<code>' + esc(Object.entries(c.settings).filter(([k, v]) => v).map(([k, v]) => k + '=' + v).join(' ')) + '</code>') +
    cell(c.history.length) + cell(esc(c.last_active || '')) + '</tr>').join('');
  const first = (p.cursors.length - 1) * PAGE;
  range('channels-range', first, d.channels.length, d.total_channels);
  // A page may end on the last channel with users following: more channels only if counted.
  p.next = d.next_cursor.startsWith('c:') && first + d.channels.length < d.total_channels ? d.next_cursor : '';
  $('channels-prev').disabled = p.cursors.length < 2;
  $('channels-next').disabled = !p.next;
}
async function refreshUsers() {
  const p = pagers.users, d = await page(p.cursors[p.cursors.length - 1]);
  $('users').innerHTML = d.users.map(u => '<tr>' + cell(esc(u.user)) +
    cell('<code>' + u.connections.map(esc).join('<br>') + '</code>') +
    cell('<code>' + esc(JSON.stringify(u.state)) + '</code>') + '</tr>').join('');
  range('users-range', (p.cursors.length - 1) * PAGE, d.users.length, d.remembered_user_count);
  p.next = d.next_cursor;
  $('users-prev').disabled = p.cursors.length < 2;
  $('users-next').disabled = !p.next;
}
async function refresh() {
  try {
    await Promise.all([refreshChannels(), refreshUsers()]);
    $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    $('status').textContent = 'server unreachable: ' + e;
  }
}
for (const name of Object.keys(pagers)) {
  const p = pagers[name];
  $(name + '-next').onclick = () => { if (p.next) { p.cursors.push(p.next); refresh(); } };
  $(name + '-prev').onclick = () => { if (p.cursors.length > 1) { p.cursors.pop(); refresh(); } };
}
refresh();
setInterval(refresh, 2000);
</script>)HTML");
}

std::string ApiExplorerPage() {
  return Page("Channelstream API explorer", R"HTML(
<header><strong>Channelstream API explorer</strong><span><a href="/admin">Admin</a><a href="/admin/sign_out">Sign out</a></span></header>
<main>
<p class="muted">Requests are signed in this browser as itsdangerous' TimestampSigner does (HMAC-SHA1 over the
request path). The secret stays in this page.</p>
<label>Secret<input id="secret" type="password" value=""></label>
<label>Operation<select id="op"></select></label>
<p id="summary" class="muted"></p>
<label>Body (JSON)<textarea id="body" rows="10"></textarea></label>
<button id="send">Send</button>
<h3>Response <span id="code" class="muted"></span></h3>
<pre id="out"></pre>
</main>
<script>
const b64url = bytes => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
async function sign(secret, value) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.digest('SHA-1', enc.encode('itsdangerous.Signer' + 'signer' + secret));
  let t = Math.floor(Date.now() / 1000); const ts = [];
  while (t > 0) { ts.unshift(t & 255); t = Math.floor(t / 256); }
  const signed = value + '.' + b64url(new Uint8Array(ts));
  const hmacKey = await crypto.subtle.importKey('raw', key, {name: 'HMAC', hash: 'SHA-1'}, false, ['sign']);
  return signed + '.' + b64url(await crypto.subtle.sign('HMAC', hmacKey, enc.encode(signed)));
}
let ops = [];
fetch('/openapi.json', {credentials: 'same-origin'}).then(r => r.json()).then(doc => {
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item))
      ops.push({path, method: method.toUpperCase(), op});
  const select = document.getElementById('op');
  select.innerHTML = ops.map((o, i) => '<option value="' + i + '">' + o.method + ' ' + o.path + '</option>').join('');
  select.onchange = show; show();
});
function show() {
  const o = ops[document.getElementById('op').value];
  document.getElementById('summary').textContent = o.op.summary || '';
  const example = o.op.requestBody && o.op.requestBody.content['application/json'].example;
  document.getElementById('body').value = example === undefined ? '' : JSON.stringify(example, null, 2);
}
document.getElementById('send').onclick = async () => {
  const o = ops[document.getElementById('op').value];
  const headers = {'Content-Type': 'application/json'};
  const secret = document.getElementById('secret').value;
  if (o.op.security === undefined || o.op.security.length) headers['x-channelstream-secret'] = await sign(secret, o.path);
  const body = document.getElementById('body').value.trim();
  const init = {method: o.method, headers, credentials: 'same-origin'};
  if (body && o.method !== 'GET') init.body = body;
  const r = await fetch(o.path, init);
  document.getElementById('code').textContent = r.status;
  const text = await r.text();
  try { document.getElementById('out').textContent = JSON.stringify(JSON.parse(text), null, 2); }
  catch (e) { document.getElementById('out').textContent = text; }
};
</script>)HTML");
}

}  // namespace channelstream::rest
