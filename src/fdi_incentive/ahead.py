"""Stages of a pipeline overlapped in threads: what reads, converts and writes files in blocks uses it."""

from collections.abc import Iterator


def ahead(items: Iterator, depth: int = 1) -> Iterator:
    """``items`` produced in a thread of their own, up to ``depth`` ahead of the consumer.

    polars works without the interpreter lock, so the stages of neighbouring blocks (reading
    one, scoring the one before, writing the one before that) overlap on the cores. Order is
    kept; an exception is raised in the consumer as it was raised in the producer; when the
    consumer stops early, so does the producer (after the item it is making).
    """
    import queue
    import threading

    done = object()
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((done, None))
        except BaseException as exc:  # noqa: BLE001  (handed to the consumer as it is)
            put((None, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="fdi-batch-stage", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = slots.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        worker.join()
