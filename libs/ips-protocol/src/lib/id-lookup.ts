/** How `fetchSalt` / `login` / `fetchId` look an account up (spec D7). */
export type IdLookup = 'name' | 'email' | 'email-then-name';

/** Spec D7: which account an `idType` designates; null finds nothing. */
export function idLookup(idType: string): IdLookup | null {
  switch (idType) {
    case '1':
    case 'name':
    case 'username':
      return 'name';
    case '2':
    case 'email':
      return 'email';
    case '3':
      return 'email-then-name';
    default:
      return null;
  }
}

/** Unicode lower case: names and e-mails are matched and unique under it (spec D8). */
export function matchKey(value: string): string {
  return value.toLowerCase();
}
