"""The front for coding agents: `isgraph mcp`, an MCP server over stdio.

`tools` holds what each tool answers (arguments → the query layer → a budgeted JSON record,
no SDK); `server` is the only module that imports the MCP SDK: it registers the tools, keeps
the workspace fresh (`isgraph.workspace.Folder`) and runs the stdio loop.
"""
