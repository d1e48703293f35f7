class TrainingDivergedError(RuntimeError):
    """Training stopped because the loss became NaN or infinite.

    Raised by `train` at the first batch (or validation) whose loss is not
    finite, before anything of that epoch is saved: the run directory keeps
    the state of the last completed epoch in `backup/` and the best model
    so far in `checkpoints/best.keras`, and no `model.keras` of NaN weights
    is written.

    Attributes:
        epoch: int, the 0-based epoch in which the loss broke.
        batch: int or None, the 0-based batch of that epoch, None when the
            validation loss broke.
        value: float, the loss value (NaN or +-inf).

    Example:

    >>> with open("reviews.csv", "w") as f:
    ...     _ = f.write("text,label\\n")
    ...     _ = f.write("a fine film,1\\na dull film,0\\n" * 16)
    >>> config = {"task": "sentiment", "train_path": "reviews.csv",
    ...           "model": "rnn", "preset": "tiny", "vocabulary_size": 20,
    ...           "max_length": 8, "batch_size": 8, "epochs": 2,
    ...           "learning_rate": 1e38}  # Adam's first step overflows
    >>> try:
    ...     train(config, "run", verbose=0)
    ... except TrainingDivergedError as error:
    ...     diverged = error
    >>> diverged.epoch, bool(np.isnan(diverged.value))
    (0, True)
    >>> str(diverged)
    'Training diverged: the loss became nan in epoch 1, ...'
    >>> import os
    >>> os.path.exists(os.path.join("run", "model.keras"))  # nothing saved
    False
    """

    def __init__(self, message, epoch=None, batch=None, value=None):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.value = value
