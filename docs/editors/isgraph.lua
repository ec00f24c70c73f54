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

-- Indexing progress ($/progress) in the message area; `:lua print(vim.lsp.status())` any time.
if vim.g.isgraph_progress ~= false then
  vim.api.nvim_create_autocmd("LspProgress", {
    group = vim.api.nvim_create_augroup("isgraph_progress", { clear = true }),
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      local value = ev.data.params.value
      if client and client.name == "isgraph" and type(value) == "table" then
        local text = value.kind == "end" and "isgraph: indexed"
          or ("%s %s"):format(value.title or "isgraph", value.message or "")
        vim.api.nvim_echo({ { text } }, false, {})
      end
    end,
  })
end
