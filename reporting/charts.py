"""A small bar chart drawn on the server as SVG: no charting library, no JavaScript."""

from dataclasses import dataclass

from reporting.snapshot import WeekCounts

WIDTH, HEIGHT = 720, 220
TOP, BOTTOM, LEFT, RIGHT = 16, 36, 40, 8
BAR_GAP = 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int


@dataclass(frozen=True)
class WeekBars:
    counts: WeekCounts
    label_x: float
    opted_in: Bar
    opted_out: Bar


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    left: int
    peak: int
    weeks: list[WeekBars]
    gridlines: list[tuple[float, int]]


def weekly_chart(weeks: list[WeekCounts]) -> Chart:
    """Opt-ins beside opt-outs for each week, scaled to the busiest week."""
    peak = max([1] + [max(week.opted_in, week.opted_out) for week in weeks])
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(weeks))
    bar_width = (slot - 4 * BAR_GAP) / 2
    baseline = HEIGHT - BOTTOM

    def bar(x: float, count: int) -> Bar:
        height = plot_height * count / peak
        return Bar(x=x, y=baseline - height, width=bar_width, height=height, count=count)

    drawn = []
    for index, week in enumerate(weeks):
        x = LEFT + index * slot + BAR_GAP
        drawn.append(
            WeekBars(
                counts=week,
                label_x=x + bar_width + BAR_GAP / 2,
                opted_in=bar(x, week.opted_in),
                opted_out=bar(x + bar_width + BAR_GAP, week.opted_out),
            )
        )
    gridlines = [(baseline - plot_height * step / 2, round(peak * step / 2)) for step in (1, 2)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        baseline=baseline,
        left=LEFT,
        peak=peak,
        weeks=drawn,
        gridlines=gridlines,
    )
