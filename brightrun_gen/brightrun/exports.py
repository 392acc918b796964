"""Training files."""

from __future__ import annotations

from brightrun_gen.brightrun.noun import Noun
from brightrun_gen.services import exporting


class Exports(Noun):
    """Training files: what a request selects, its first records, the file itself."""

    request = staticmethod(exporting.ExportRequest)

    def count(self, request: exporting.ExportRequest) -> int:
        return exporting.count(self.engine, request)

    def preview(self, request: exporting.ExportRequest, n: int = 5) -> list[dict]:
        return exporting.preview(self.engine, request, n)

    def write(self, request: exporting.ExportRequest) -> exporting.ExportResult:
        return exporting.export(self.engine, request, self.app.settings)

    def download(self, request: exporting.ExportRequest) -> tuple[str, bytes, int]:
        """(file name, bytes, conversations) for a browser download."""
        return exporting.export_download(self.engine, request)
