"""The footer of every screen: Textual's, made again only when the keys it shows change.

Textual's Footer makes all its keys anew whenever the screen's bindings may have changed: a
focus moving, a screen pushed, a worker ending. Opening the walk moves the focus and asks the
path, and the footer was made seven times over in the first second, most of the styling work
the walk's first frame waited for. Here it compares what it would show with what it shows."""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None       # the keys as last made
        self._remaking = False

    def _keys(self) -> tuple:
        """What the footer shows: each visible binding, enabled or not, with its words."""
        return tuple((binding.key, binding.action, binding.description, enabled, tooltip)
                     for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
                     if binding.show or binding.action == "command_palette")

    def compose(self):
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._remaking and self._keys() != self._shown:
            self._remaking = True           # many changes before it runs: made once
            # On the footer's own queue: Textual's call_after_refresh hands the call to whichever
            # screen is on top, and a dialog closed before it painted again took it away with it,
            # leaving the walk's footer empty for good.
            self.call_later(self._remake)

    async def _remake(self) -> None:
        self._remaking = False
        if self.is_attached and self._keys() != self._shown:
            await self.recompose()
