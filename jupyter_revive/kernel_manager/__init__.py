"""The kernel wrapper: what runs in and around each kernel.

* ``jupyter_revive_tracker``: the package that runs INSIDE the kernel (stdlib + IPython only):
  context id, execution ledger, execute_reply metadata, bounded variable summaries; its
  ``names`` and ``records`` modules are also the server's rules for names and code hashes.
* ``staging``: the package's sources, staged into a private directory for launched kernels.
* ``provisioner``: launch hook that loads the tracker into ipykernel kernels.
* ``query``: the server's silent questions to a kernel's tracker, and the injection of the
  tracker into kernels we did not launch; ``errors``: why a question failed.
"""
