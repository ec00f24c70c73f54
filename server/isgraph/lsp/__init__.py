"""The language server (`isgraph serve`): pygls wiring over IndexService and the Store."""
