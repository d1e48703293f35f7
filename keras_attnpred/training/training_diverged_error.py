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
    """

    def __init__(self, message, epoch=None, batch=None, value=None):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.value = value
