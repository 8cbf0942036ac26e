"""The container: the Docker seam, production layouts, limits, execution, ownership.

Owns the one module that talks to docker-py (:mod:`.engine`), the Processing and Training
layouts (:mod:`.layout`, :mod:`.training`), the limits a container runs under
(:mod:`.limits`, :mod:`.instances`), the container request (:mod:`.containerize`), running
one container to completion (:mod:`.execute`, :mod:`.monitor`), image profiles
(:mod:`.images`) and what they hold (:mod:`.distributions`), a script's requirements (the
offline :mod:`.wheelhouse`, the pre-flight import check :mod:`.preflight`, both joined in
:mod:`.dependencies`), handing files back to the user (:mod:`.ownership`), and the files mounted
into the container itself (``_container/``: the supervisor and the main runner).
"""

from __future__ import annotations
