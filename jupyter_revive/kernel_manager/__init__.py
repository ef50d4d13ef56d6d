"""The kernel wrapper: what runs in and around each kernel.

* ``tracker``: runs INSIDE the kernel (stdlib + IPython only): context id, execution ledger,
  execute_reply metadata, bounded variable summaries.
* ``provisioner``: launch hook that loads the tracker into ipykernel kernels.
* ``query``: the server's silent questions to a kernel's tracker; ``errors``: why one failed.
"""
