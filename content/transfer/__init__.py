"""Content in and out of files: `import_content` and `export_content` call these services."""

from content.transfer.exporter import content_export, items_for_export, items_without_external_id
from content.transfer.importer import BATCH_SIZE, ImportResult, content_import
from content.transfer.rows import (
    ALLOWED_COLUMNS,
    COLUMNS,
    FORMATS,
    ContentImportError,
    format_for,
)

__all__ = [
    "ALLOWED_COLUMNS",
    "BATCH_SIZE",
    "COLUMNS",
    "FORMATS",
    "ContentImportError",
    "ImportResult",
    "content_export",
    "content_import",
    "format_for",
    "items_for_export",
    "items_without_external_id",
]
