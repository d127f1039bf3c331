"""Receiving an OVA upload: streamed straight into the OVA folder, and stopped at the size limit.

Django's default handlers would spool a multi-GB OVA to the temporary folder first, and accept
any size. This handler writes the one file field it is made for to a hidden partial file in
the OVA folder (`.upload-<random>.part`, never listed nor deployable), stops writing as soon as
the limit is passed, and leaves it to `library.store_upload` to check and name the file.
"""

import secrets
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from . import library

FIELD = "ova_file"
# The rest of a multipart body (CSRF token, boundaries) is small; this much over the file limit
# in Content-Length means the file itself is too large, which is known before a byte is written.
FORM_OVERHEAD = 64 * 1024


class ReceivedOva(UploadedFile):
    """A completely received upload, still under its partial name in the OVA folder."""

    def __init__(self, path: Path, name: str, size: int, content_type: str):
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)

    def open(self, mode=None):
        return open(self.path, mode or "rb")

    def close(self):
        pass


class OvaUploadHandler(FileUploadHandler):
    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = limit if limit is not None else library.max_upload_bytes()
        self.too_large = False
        self.partial: Path | None = None
        self._stream = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + FORM_OVERHEAD:
            self.too_large = True
        return None  # let Django parse the form as usual

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != FIELD or self.too_large:
            raise SkipFile()  # other file fields are not wanted; a too-large OVA is not written at all
        folder = library.folder()
        folder.mkdir(parents=True, exist_ok=True)
        self.partial = folder / f"{library.PARTIAL_PREFIX}{secrets.token_hex(8)}.part"
        self._stream = open(self.partial, "xb")
        self.file = self._stream  # Django closes `file` when the upload stops early

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.too_large = True
            self.discard()
            raise SkipFile()
        self._stream.write(raw_data)
        return None  # consumed: no further handler sees the bytes

    def file_complete(self, file_size):
        if self._stream is None:
            return None
        self._stream.close()
        self._stream = None
        return ReceivedOva(self.partial, self.file_name, file_size, self.content_type)

    def upload_interrupted(self):
        self.discard()

    def discard(self):
        """Remove the partial file, if any: called for every outcome but a stored OVA."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)
            self.partial = None
