/**
 * The design most tutorials teach: multer keeps each upload whole in memory, one mongoose
 * document holds all its bytes, and a read loads the document and sends its buffer.
 */
import express from 'express';
import mongoose from 'mongoose';
import multer from 'multer';
import { portFromEnv, requiredEnv } from './environment';

const TutorialImage = mongoose.model(
  'TutorialImage',
  new mongoose.Schema({ data: Buffer, contentType: String }),
  'tutorial_images',
);

const upload = multer({ storage: multer.memoryStorage() });

async function main(): Promise<void> {
  await mongoose.connect(requiredEnv('MONGODB_URI'));
  const app = express();

  app.post('/image/upload', upload.single('image'), async (req, res) => {
    if (!req.file) {
      res.status(400).json({ error: 'no file in "image"' });
      return;
    }
    const image = await TutorialImage.create({ data: req.file.buffer, contentType: req.file.mimetype });
    res.status(201).json({ id: image._id.toHexString() });
  });

  app.get('/image/:id', async (req, res) => {
    const image = await TutorialImage.findById(req.params.id);
    if (!image?.data) {
      res.sendStatus(404);
      return;
    }
    res.set('Content-Type', image.contentType ?? 'application/octet-stream');
    res.send(image.data);
  });

  app.listen(portFromEnv(), '127.0.0.1');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
