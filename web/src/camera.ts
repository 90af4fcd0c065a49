/**
 * Webcam capture with getUserMedia: a live preview in a <video>, one frame taken as a JPEG file.
 *
 * ```ts
 * const cam = await openCamera(video);   // asks for permission
 * const file = await cam.capture();      // File 'camera.jpg'
 * cam.close();
 * ```
 */

export interface Camera {
  capture(): Promise<File>;
  close(): void;
}

/** Whether this browser (and context: https or localhost) can use a camera. */
export function cameraAvailable(): boolean {
  return !!navigator.mediaDevices?.getUserMedia && window.isSecureContext;
}

/** Starts the front camera in `video`. Rejects with a sentence for the user when it cannot. */
export async function openCamera(video: HTMLVideoElement): Promise<Camera> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 960 } }, audio: false });
  } catch (e) {
    const name = (e as DOMException)?.name;
    throw new Error(
      name === 'NotAllowedError'
        ? 'Camera access was denied. Allow it in the browser, or choose a photo instead.'
        : name === 'NotFoundError'
          ? 'No camera was found.'
          : `The camera cannot be started (${name ?? e}).`,
    );
  }
  video.srcObject = stream;
  await video.play();
  return {
    async capture() {
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext('2d')!.drawImage(video, 0, 0);
      const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', 0.92));
      if (!blob) throw new Error('The camera frame could not be captured.');
      return new File([blob], 'camera.jpg', { type: 'image/jpeg' });
    },
    close() {
      for (const t of stream.getTracks()) t.stop();
      video.srcObject = null;
    },
  };
}
