-- isgraph's language server in Neovim >= 0.11 (vim.lsp.config + vim.lsp.enable).
--
-- Use: copy this file into ~/.config/nvim/plugin/isgraph.lua (or `require` it from init.lua).
-- Knobs, all optional, set before this file runs:
--   vim.g.isgraph_cmd           the server's command line (default: { "isgraph", "serve" });
--                               e.g. { "/path/to/venv/bin/python", "-m", "isgraph", "serve" }
--   vim.g.isgraph_init_options  initializationOptions, the keys of [tool.isgraph]:
--                               { db = "sqlite:/tmp/x.db", excludes = { "build/" },
--                                 downstream = { { name = "jedi", command = { "jedi-language-server" },
--                                                  languages = { "python" }, timeout_ms = 500 } } }
--   vim.g.isgraph_progress      false to keep indexing progress out of the message area
-- This file is run as is by tests/editors/test_neovim.py in a real headless Neovim.

vim.lsp.config("isgraph", {
  cmd = vim.g.isgraph_cmd or { "isgraph", "serve" },
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
    "java", "c", "cpp", "ruby", "php", "cs", "swift", "kotlin",
  },
  -- The root is the nearest directory upwards holding one of these (an existing index first).
  root_markers = { ".isgraph", ".isgraph.toml", "pyproject.toml", ".git" },
  init_options = vim.g.isgraph_init_options or vim.empty_dict(),
})
vim.lsp.enable("isgraph")

-- Indexing progress ($/progress) in the message area, as a summary: the start, "checking N
-- files", every quarter of the way, and the end; `:lua print(vim.lsp.status())` any time.
if vim.g.isgraph_progress ~= false then
  local shown = {} -- token -> the last quarter echoed
  vim.api.nvim_create_autocmd("LspProgress", {
    group = vim.api.nvim_create_augroup("isgraph_progress", { clear = true }),
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      local value = ev.data.params.value
      if not (client and client.name == "isgraph" and type(value) == "table") then
        return
      end
      local token, text = ev.data.params.token, nil
      if value.kind == "begin" then
        shown[token] = -1
        text = value.title or "isgraph: indexing"
      elseif value.kind == "end" then
        shown[token] = nil
        text = "isgraph: " .. (value.message or "indexed")
      else
        local quarter = math.floor((value.percentage or 0) / 25)
        local first = (value.message or ""):match("^checking %d+ files$")
        if first or quarter > (shown[token] or -1) then
          shown[token] = quarter
          text = ("isgraph: %s"):format(value.message or "")
        end
      end
      if text then
        vim.api.nvim_echo({ { text } }, false, {})
      end
    end,
  })
end
