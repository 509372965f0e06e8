/**
 * Sun position from the NOAA "general solar position" approximations
 * (fractional year → declination and equation of time → hour angle).
 * Accurate to a fraction of a degree, plenty for a household simulator.
 */

export interface SunPosition {
  elevationDeg: number;
  /** Clockwise from north: 90 east, 180 south. */
  azimuthDeg: number;
  declinationDeg: number;
  equationOfTimeMin: number;
  hourAngleDeg: number;
}

const RAD = Math.PI / 180;

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

export function sunPosition(latitudeDeg: number, longitudeDeg: number, timeMs: number): SunPosition {
  const date = new Date(timeMs);
  const utcHours = date.getUTCHours() + date.getUTCMinutes() / 60 + date.getUTCSeconds() / 3600 + date.getUTCMilliseconds() / 3_600_000;
  const year = date.getUTCFullYear();
  const daysInYear = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 366 : 365;
  const g = ((2 * Math.PI) / daysInYear) * (dayOfYear(date) - 1 + (utcHours - 12) / 24);

  const equationOfTimeMin =
    229.18 * (0.000075 + 0.001868 * Math.cos(g) - 0.032077 * Math.sin(g) - 0.014615 * Math.cos(2 * g) - 0.040849 * Math.sin(2 * g));
  const declination =
    0.006918 - 0.399912 * Math.cos(g) + 0.070257 * Math.sin(g) - 0.006758 * Math.cos(2 * g) + 0.000907 * Math.sin(2 * g) -
    0.002697 * Math.cos(3 * g) + 0.00148 * Math.sin(3 * g);

  const trueSolarMinutes = utcHours * 60 + equationOfTimeMin + 4 * longitudeDeg;
  let hourAngleDeg = trueSolarMinutes / 4 - 180;
  hourAngleDeg = ((((hourAngleDeg + 180) % 360) + 360) % 360) - 180;

  const lat = latitudeDeg * RAD;
  const ha = hourAngleDeg * RAD;
  const cosZenith = Math.sin(lat) * Math.sin(declination) + Math.cos(lat) * Math.cos(declination) * Math.cos(ha);
  const zenith = Math.acos(Math.min(1, Math.max(-1, cosZenith)));
  const azimuth = Math.atan2(Math.sin(ha), Math.cos(ha) * Math.sin(lat) - Math.tan(declination) * Math.cos(lat)) / RAD + 180;

  return {
    elevationDeg: 90 - zenith / RAD,
    azimuthDeg: ((azimuth % 360) + 360) % 360,
    declinationDeg: declination / RAD,
    equationOfTimeMin,
    hourAngleDeg,
  };
}
