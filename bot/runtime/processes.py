"""Worker processes for `hypercare run`.

The process that talks to Slack only stores and acknowledges; the queues are worked in a separate
process (or several), so a burst of reports never makes an acknowledgement wait for the GIL
behind triage and posting. The workers find stored rows by polling the database (every
`poll_interval`); they exit when the process that started them is gone, even after a kill -9.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from multiprocessing.process import BaseProcess

from bot.runtime.settings import Settings

logger = logging.getLogger("hypercare.processes")


def receiver_settings(settings: Settings) -> Settings:
    """The acknowledging process: no queue workers and no scheduler of its own."""
    return settings.replace(workers=0, scheduler_enabled=False)


def start_worker_processes(settings: Settings, *, log_level: int) -> list[BaseProcess]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads or sockets
    worker_settings = settings.replace(poll_interval=min(settings.poll_interval, 0.1))
    processes = []
    for index in range(settings.worker_processes):
        process = context.Process(
            target=work, kwargs={"settings": worker_settings, "parent": os.getpid(), "log_level": log_level,
                                 "with_scheduler": index == 0 and settings.scheduler_enabled},
            name=f"hypercare-worker-{index}", daemon=True,
        )
        process.start()
        processes.append(process)
    return processes


def work(*, settings: Settings, parent: int, log_level: int, with_scheduler: bool) -> None:
    from bot.runtime.app import create_hypercare

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
    # Acknowledgements first: under a burst the receiver gets the CPU, the work follows.
    os.nice(10)
    hypercare = create_hypercare(settings=settings.replace(scheduler_enabled=with_scheduler), migrate=False)
    hypercare.start(receives=False)
    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            if os.getppid() != parent:  # orphaned: the receiver died, and a restart brings new workers
                break
    except KeyboardInterrupt:
        pass
    finally:
        hypercare.stop()
        logger.info("worker process %s stopped", os.getpid())
