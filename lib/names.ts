/** Names of topics and groups (API.md, "Conventions"): `^[A-Za-z0-9._-]{1,200}$`, but not `.` or `..`. */
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}
