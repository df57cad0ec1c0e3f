"""One statsforecast call per forecast method, with its prediction interval.

statsforecast is imported inside each function: importing it takes about two seconds, which
commands that never forecast should not pay.

Interval per method:

- ``average``: statsforecast ``HistoricAverage``'s native normal interval, mean ± z·σ of the
  in-sample residuals.
- ``ses``: ETS(A,N,N), simple exponential smoothing in state-space form (``AutoETS`` with the
  fixed model ``ANN``, no model search), whose native interval is the analytic one of the
  state-space model with normal errors.
- ``seasonal_es``: ETS(A,N,A), additive seasonality (``AutoETS`` with the fixed model ``ANA``),
  same analytic interval. statsforecast's ETS is a port of R's ``ets``, which is not meant
  for seasons longer than 24 (its fit degenerates: on weekly CO2 with season 52 it settles on
  a level smoothing of 0.005); for those the same ETS(A,N,A) model is fitted by statsmodels'
  ``ETSModel`` (heuristic initial states), whose interval for this linear model is also the
  exact analytic one.
- ``croston``: ``CrostonClassic`` has no native interval: split conformal intervals
  (``ConformalIntervals``) from rolling-origin errors when the history holds at least two
  horizons plus a day; otherwise a residual-quantile interval, forecast ± the level-quantile
  of the absolute in-sample one-step errors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ModelFitError", "ModelOutput", "fit_average", "fit_croston", "fit_ets"]

FloatArray = npt.NDArray[np.float64]

_MAX_CONFORMAL_WINDOWS = 10
_MAX_STATSFORECAST_SEASON = 24


class ModelFitError(Exception):
    """statsforecast could not fit the model to this history."""


@dataclass(frozen=True, slots=True)
class ModelOutput:
    mean: FloatArray
    lower: FloatArray | None
    upper: FloatArray | None
    description: str
    interval: str


def _bounds(
    forecast: dict[str, FloatArray], level: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    return (
        np.asarray(forecast["mean"], dtype=np.float64),
        np.asarray(forecast[f"lo-{level}"], dtype=np.float64),
        np.asarray(forecast[f"hi-{level}"], dtype=np.float64),
    )


def fit_average(values: FloatArray, horizon: int, level: int) -> ModelOutput:
    """Historic average with statsforecast's native normal interval."""
    from statsforecast.models import HistoricAverage

    description = "the mean of the fit window (statsforecast HistoricAverage)"
    if values.size < 2:
        mean = np.full(horizon, float(values.mean()))
        return ModelOutput(mean, None, None, description, "none: one observation has no spread")
    forecast = HistoricAverage().forecast(y=values, h=horizon, level=[level])
    mean, lower, upper = _bounds(forecast, level)
    interval = "normal interval, mean ± z·σ of the in-sample residuals (native)"
    return ModelOutput(mean, lower, upper, description, interval)


def fit_ets(values: FloatArray, horizon: int, level: int, season_length: int | None) -> ModelOutput:
    """ETS(A,N,N) (``season_length`` None) or ETS(A,N,A), with analytic intervals."""
    from statsforecast.models import AutoETS

    if season_length is not None and season_length > _MAX_STATSFORECAST_SEASON:
        return _fit_long_season_ets(values, horizon, level, season_length)

    if season_length is None:
        model = AutoETS(model="ANN")
        description = "simple exponential smoothing, ETS(A,N,N) (statsforecast AutoETS 'ANN')"
    else:
        model = AutoETS(model="ANA", season_length=season_length)
        description = (
            f"additive seasonal exponential smoothing, ETS(A,N,A) with season {season_length} "
            "(statsforecast AutoETS 'ANA', no model search)"
        )
    try:
        forecast = model.forecast(y=values, h=horizon, level=[level])
    except Exception as exc:  # statsforecast raises bare Exception / NotImplementedError
        raise ModelFitError(str(exc) or type(exc).__name__) from exc
    mean, lower, upper = _bounds(forecast, level)
    if not (np.isfinite(mean).all() and np.isfinite(lower).all() and np.isfinite(upper).all()):
        raise ModelFitError("the fit produced non-finite forecasts")
    interval = "analytic ETS state-space prediction interval, normal errors (native)"
    return ModelOutput(mean, lower, upper, description, interval)


def _fit_long_season_ets(
    values: FloatArray, horizon: int, level: int, season_length: int
) -> ModelOutput:
    """ETS(A,N,A) by statsmodels, for seasons statsforecast's ETS does not handle."""
    import pandas as pd
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    description = (
        f"additive seasonal exponential smoothing, ETS(A,N,A) with season {season_length} "
        f"(statsmodels ETSModel, heuristic initial states: statsforecast's ETS does not fit "
        f"seasons over {_MAX_STATSFORECAST_SEASON})"
    )
    # A pandas Series: statsmodels' get_prediction fails on a bare ndarray.
    endog = pd.Series(values)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            model = ETSModel(
                endog,
                error="add",
                trend=None,
                seasonal="add",
                seasonal_periods=season_length,
                initialization_method="heuristic",
            )
            fitted = model.fit(disp=False)
            prediction = fitted.get_prediction(start=values.size, end=values.size + horizon - 1)
            frame = prediction.summary_frame(alpha=1 - level / 100)
        except ValueError as exc:
            raise ModelFitError(str(exc)) from exc
    if any(issubclass(warning.category, ConvergenceWarning) for warning in caught):
        description += "; the optimizer reported no convergence"
    mean = frame["mean"].to_numpy(dtype=np.float64)
    lower = frame["pi_lower"].to_numpy(dtype=np.float64)
    upper = frame["pi_upper"].to_numpy(dtype=np.float64)
    if not (np.isfinite(mean).all() and np.isfinite(lower).all() and np.isfinite(upper).all()):
        raise ModelFitError("the fit produced non-finite forecasts")
    interval = f"analytic ETS state-space prediction interval, normal errors ({prediction.method})"
    return ModelOutput(mean, lower, upper, description, interval)


def fit_croston(values: FloatArray, horizon: int, level: int) -> ModelOutput:
    """Croston's method with conformal intervals, or residual-quantile ones on short history."""
    from statsforecast.models import CrostonClassic
    from statsforecast.utils import ConformalIntervals

    description = (
        "Croston's method for intermittent demand: demand size and inter-demand interval "
        "smoothed separately, alpha 0.1 (statsforecast CrostonClassic)"
    )
    windows = min(_MAX_CONFORMAL_WINDOWS, (values.size - 1) // horizon)
    if windows >= 2:
        conformal = ConformalIntervals(h=horizon, n_windows=windows)
        model = CrostonClassic(prediction_intervals=conformal)
        forecast = model.forecast(y=values, h=horizon, level=[level])
        mean, lower, upper = _bounds(forecast, level)
        interval = f"split conformal interval from {windows} rolling-origin windows"
        return ModelOutput(mean, lower, upper, description, interval)
    forecast = CrostonClassic().forecast(y=values, h=horizon, fitted=True)
    mean = np.asarray(forecast["mean"], dtype=np.float64)
    fitted = np.asarray(forecast["fitted"], dtype=np.float64)
    errors = np.abs(values - fitted)
    errors = errors[np.isfinite(errors)]
    if errors.size == 0:
        return ModelOutput(mean, None, None, description, "none: no in-sample errors to use")
    spread = float(np.quantile(errors, level / 100))
    interval = (
        f"residual-quantile interval, forecast ± the {level} % quantile of {errors.size} "
        f"absolute in-sample one-step errors (too short for {2 * horizon + 1}-day conformal)"
    )
    return ModelOutput(mean, mean - spread, mean + spread, description, interval)
