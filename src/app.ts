import express, { type Express } from 'express';
import type { Db } from 'mongodb';
import type { Config } from './config';
import { problemResponder, routeNotFound } from './errors/problem-responder';
import { createImageRepository } from './images/image-repository';
import { createImageRouter } from './images/image-router';
import { createImageService } from './images/image-service';
import type { Logger } from './logger';

export interface AppDependencies {
  readonly config: Pick<Config, 'bucketName' | 'maxFileSize' | 'maxFiles'>;
  readonly logger: Logger;
  readonly db: Db;
}

export function createApp({ config, logger, db }: AppDependencies): Express {
  const images = createImageService(createImageRepository(db, config.bucketName), {
    maxFileSize: config.maxFileSize,
    logger,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use('/image', createImageRouter(images, config));
  app.use(routeNotFound);
  app.use(problemResponder(logger));
  return app;
}
