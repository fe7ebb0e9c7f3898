"""transformers' own console output off: its log lines and its tqdm bars.

Loading or saving these models ("Loading weights", "Writing model shards") takes a moment, and a
bar for it on every run is noise; the run's own rich bars show the long work. transformers is
imported on call, so a module that imports this one stays light (reward code imports it).
"""


def quiet_transformers() -> None:
    """Only transformers' errors are printed, and none of its progress bars."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
