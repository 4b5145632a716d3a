"""A long-running coroutine the service starts and stops: the evaluator's cycles and the notifier's
delivery loops are such tasks (they are not parts of the web app, so they do not use its
``cleanup_ctx``)."""

from __future__ import annotations

import asyncio
import contextlib


class Background:
    """Subclasses define ``async run()``; ``start()`` (inside a running event loop) runs it as a task
    named ``task_name``, ``await stop()`` cancels it and waits until it has ended."""

    task_name = "background"

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None

    async def run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=self.task_name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
