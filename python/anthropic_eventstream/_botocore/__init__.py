"""Frames -> botocore's objects, for boto3 and aiobotocore users: the drop-in ``EventStreamBuffer``
(``buffer``) and the opt-in that puts it and typed error frames into botocore (``install``:
``install_botocore()``, ``uninstall_botocore()``).
"""
