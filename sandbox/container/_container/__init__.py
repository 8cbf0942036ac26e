"""Files mounted read-only into every container at ``/opt/sandbox/bin``.

They run under the image's own ``python3`` (any version from 3.6, standard library
only) and never print into the script's output.
"""
