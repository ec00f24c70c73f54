-- Drives a real headless Neovim for tests/editors/test_neovim.py, after docs/editors/*.lua ran:
-- opens a file, waits for isgraph to attach and for indexing to end ($/progress "end"), asks
-- hover and workspace/symbol through vim.lsp.buf_request_sync, writes JSON to $ISGRAPH_NVIM_OUT.
local out = { progress = {}, events = {}, echoes = {} }
local echo = vim.api.nvim_echo -- count what the documented config echoes
vim.api.nvim_echo = function(chunks, history, opts)
  table.insert(out.echoes, chunks[1] and chunks[1][1] or "")
  return echo(chunks, history, opts)
end
local t0 = vim.uv.hrtime()
local function ms()
  return math.floor((vim.uv.hrtime() - t0) / 1e6)
end
local function finish()
  vim.fn.writefile({ vim.json.encode(out) }, vim.env.ISGRAPH_NVIM_OUT)
  vim.cmd("qa!")
end

local ended = false
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local value = ev.data.params.value
    if type(value) == "table" then
      table.insert(out.progress, value.kind)
      if value.kind == "end" then
        ended = true
        out.events.indexed_ms = ms()
      end
    end
  end,
})

vim.cmd.edit(vim.fn.fnameescape(vim.env.ISGRAPH_NVIM_FILE))
local attached = vim.wait(30000, function()
  return #vim.lsp.get_clients({ bufnr = 0, name = "isgraph" }) > 0
end, 20)
out.events.attached_ms = attached and ms() or nil
if not attached then
  out.error = "isgraph did not attach"
  return finish()
end
local client = vim.lsp.get_clients({ bufnr = 0, name = "isgraph" })[1]
out.root_dir = client.config.root_dir
if not vim.wait(60000, function() return ended end, 20) then
  out.error = "indexing did not end"
  return finish()
end

local line = tonumber(vim.env.ISGRAPH_NVIM_LINE)
local col = tonumber(vim.env.ISGRAPH_NVIM_COL)
local hover = vim.lsp.buf_request_sync(0, "textDocument/hover", {
  textDocument = { uri = vim.uri_from_bufnr(0) },
  position = { line = line, character = col },
}, 10000)
for _, r in pairs(hover or {}) do
  out.hover = r.result and r.result.contents or r.err
end
local symbols = vim.lsp.buf_request_sync(0, "workspace/symbol", { query = vim.env.ISGRAPH_NVIM_QUERY }, 10000)
for _, r in pairs(symbols or {}) do
  out.symbols = r.result or r.err
end
-- A call site in another file (optional): hover and references on the word under the cursor.
if vim.env.ISGRAPH_NVIM_CALL_FILE then
  vim.cmd.edit(vim.fn.fnameescape(vim.env.ISGRAPH_NVIM_CALL_FILE))
  vim.wait(10000, function()
    return #vim.lsp.get_clients({ bufnr = 0, name = "isgraph" }) > 0
  end, 20)
  local at = {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    position = {
      line = tonumber(vim.env.ISGRAPH_NVIM_CALL_LINE),
      character = tonumber(vim.env.ISGRAPH_NVIM_CALL_COL),
    },
  }
  for _, r in pairs(vim.lsp.buf_request_sync(0, "textDocument/hover", at, 10000) or {}) do
    out.call_hover = r.result and r.result.contents or r.err
  end
  at.context = { includeDeclaration = false }
  for _, r in pairs(vim.lsp.buf_request_sync(0, "textDocument/references", at, 10000) or {}) do
    out.call_references = r.result or r.err
  end
end
out.events.done_ms = ms()
finish()
