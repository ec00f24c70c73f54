-- isgraph's language server in Neovim 0.10 (vim.lsp.start from a FileType autocmd).
-- Same knobs as isgraph.lua: vim.g.isgraph_cmd, vim.g.isgraph_init_options.
-- Run as is by tests/editors/test_neovim.py (on a newer Neovim, where vim.lsp.start still works).

vim.api.nvim_create_autocmd("FileType", {
  group = vim.api.nvim_create_augroup("isgraph_lsp", { clear = true }),
  pattern = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
    "java", "c", "cpp", "ruby", "php", "cs", "swift", "kotlin",
  },
  callback = function(ev)
    -- The nearest directory upwards holding one of these (an existing index first).
    local root = vim.fs.root(ev.buf, { ".isgraph", ".isgraph.toml", "pyproject.toml", ".git" })
    if not root then
      return -- no project root: do not index the whole file system
    end
    vim.lsp.start({
      name = "isgraph",
      cmd = vim.g.isgraph_cmd or { "isgraph", "serve" },
      root_dir = root,
      init_options = vim.g.isgraph_init_options or vim.empty_dict(),
    }, { bufnr = ev.buf })
  end,
})
