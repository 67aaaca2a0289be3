/**
 * Data source for the TypeORM CLI (developers only: `npm run db:migration:generate -- Name`).
 * Services never import this file.
 */
import { DataSource } from 'typeorm';
import { parseConfig } from '@switchboard/config';
import { dataSourceOptions } from './lib/data-source-options';

export default new DataSource(dataSourceOptions(parseConfig('migrator', process.env).DATABASE_URL, 'switchboard-cli'));
