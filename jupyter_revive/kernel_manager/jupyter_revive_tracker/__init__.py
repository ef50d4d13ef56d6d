"""jupyter-revive tracker: the package that runs INSIDE an IPython kernel (being split out of
``tracker.py``; that file is still what kernels load until the split is done)."""
