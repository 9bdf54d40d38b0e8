// A long-running remote command (`virsh event --loop`) delivers its output in arbitrary chunks: a line
// can be split across two chunks, a UTF-8 character across two buffers. This turns the chunks back
// into whole lines, without their `\n` or a pty's `\r\n`.
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.partial += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline = this.partial.indexOf('\n');
    while (newline !== -1) {
      this.onLine(this.partial.slice(0, newline).replace(/\r$/, ''));
      this.partial = this.partial.slice(newline + 1);
      newline = this.partial.indexOf('\n');
    }
  }

  /** The output ended: a last line without a newline still counts. */
  end(): void {
    this.partial += this.decoder.end();
    if (this.partial !== '') this.onLine(this.partial.replace(/\r$/, ''));
    this.partial = '';
  }
}
