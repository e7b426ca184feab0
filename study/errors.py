"""User-facing errors: one line per problem, naming the file, key or row, and the cause."""

from __future__ import annotations


class StudyError(Exception):
    """Bad user input.  ``problems`` are complete one-line messages."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class ProblemList:
    """Collects ``FILE: where: cause`` lines so all problems are reported at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, where: str, cause: str) -> None:
        self.items.append(f"{self.source}: {where}: {cause}")

    def raise_if_any(self) -> None:
        if self.items:
            raise StudyError(self.items)
