"""Finance forms: the import upload (the statement filters are plain GET parameters)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class ImportForm(FlaskForm):
    file = FileField(
        "Excel file (.xlsx)",
        validators=[
            FileRequired("Choose the Excel file to import."),
            FileAllowed(
                ["xlsx"], "Upload an Excel workbook (.xlsx), e.g. filled from the template."
            ),
        ],
    )
