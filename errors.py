"""Errors a user can cause: the CLI prints them as one line, never a traceback."""

from dataclasses import dataclass

COMMAND_LINE = "命令行"  # the "file" of problems in input typed as command options


class UserError(Exception):
    """A mistake the user can fix; the message says what to do next."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file, located by file, row and column."""

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} 第{self.row}行" if self.row else self.file
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.reason}"


class ImportRefused(UserError):
    """A whole input file was refused; nothing from it was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        first = self.problems[0] if self.problems else "?"
        source = "命令" if all(p.file == COMMAND_LINE for p in self.problems) else "文件"
        super().__init__(f"{source}被拒绝，共 {len(self.problems)} 处问题，未写入任何数据（第一处: {first}）")


class _UserErrorsAsReasons:
    """A logging filter: a user's mistake that ends a task or flow run is logged as its Chinese
    reason alone, in the terminal and in the Prefect UI; an unexpected error keeps its traceback."""

    def filter(self, record) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, UserError):
            record.msg, record.args, record.exc_info, record.exc_text = f"错误：{error}", (), None, None
        return True


def log_user_errors_as_reasons() -> None:
    """Install the filter on the loggers Prefect's engines report failed runs with (once)."""
    import logging

    for name in ("prefect.task_runs", "prefect.flow_runs"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _UserErrorsAsReasons) for f in logger.filters):
            logger.addFilter(_UserErrorsAsReasons())
